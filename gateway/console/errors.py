"""Stable codes of the operator console's refusals. Each is raised before anything changes."""

from __future__ import annotations

from gateway.errors import GatewayError


class ConsoleError(GatewayError):
    """Base of the console's refusals."""


class SignInRefused(ConsoleError):
    # One code for a wrong name, a wrong password, a wrong code, a disabled and a locked account: which is not said.
    code = "CONSOLE_SIGN_IN_REFUSED"
    status = 401
    title = "Sign-in refused"
    default_hint = "Check the name, the password and (if your account has one) the six-digit code, then try again."


class SignInRequired(ConsoleError):
    code = "CONSOLE_SIGN_IN_REQUIRED"
    status = 401
    title = "Sign in first"
    default_hint = "Your session ended (signed out, idle too long, or never started). Sign in again."


class RoleForbidden(ConsoleError):
    code = "CONSOLE_ROLE_FORBIDDEN"
    status = 403
    title = "Your role cannot do this"
    default_hint = "Support accounts read every page and change nothing; ask an admin."


class CsrfRefused(ConsoleError):
    code = "CONSOLE_CSRF_REFUSED"
    status = 400
    title = "The form is stale or was not sent by the console"
    default_hint = "Reload the page and send the form again."


class AccountInvalid(ConsoleError):
    code = "CONSOLE_ACCOUNT_INVALID"
    status = 422
    title = "The account cannot be made like that"
    default_hint = ("A name of 1 to 100 letters, digits, dots, dashes or underscores; "
                    "a password of 12 to 200 characters.")


class AccountExists(ConsoleError):
    code = "CONSOLE_ACCOUNT_EXISTS"
    status = 409
    title = "An account with that name exists"
    default_hint = "Choose another name."


class AccountNotFound(ConsoleError):
    code = "CONSOLE_ACCOUNT_NOT_FOUND"
    status = 404
    title = "No such account"
    default_hint = "Check the account list."


class LastAdmin(ConsoleError):
    code = "CONSOLE_LAST_ADMIN"
    status = 409
    title = "The last admin cannot be disabled"
    default_hint = "Make another admin account first."


class InputInvalid(ConsoleError):
    code = "CONSOLE_INPUT_INVALID"
    status = 422
    title = "The form has a value the console cannot use"
    default_hint = "Correct the field named in the message and send the form again."


class PasswordWrong(ConsoleError):
    code = "CONSOLE_PASSWORD_WRONG"
    status = 403
    title = "The current password is wrong"
    default_hint = "Type the password you signed in with; nothing was changed."


class PasswordMismatch(ConsoleError):
    code = "CONSOLE_PASSWORD_MISMATCH"
    status = 422
    title = "The two new passwords differ"
    default_hint = "Type the same new password in both fields; nothing was changed."
