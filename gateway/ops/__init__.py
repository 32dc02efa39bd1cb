"""Operations: health and readiness, metrics, JSON logs with request ids, error pages."""
