from storefront.errors import AppError, Conflict, NotAuthenticated, NotFound, Unprocessable


class EmailTaken(Conflict):
    code = "email_taken"

    def default_detail(self) -> str:
        return "An account with this email address exists already."


class UsernameTaken(Conflict):
    code = "username_taken"

    def default_detail(self) -> str:
        return "This username is taken."


class WeakPassword(Unprocessable):
    code = "weak_password"


class InvalidRefreshToken(NotAuthenticated):
    code = "invalid_refresh_token"

    def __init__(self) -> None:
        super().__init__("The refresh token is invalid, expired or already used.", token_sent=True)


class InvalidResetToken(AppError):
    status_code = 400
    code = "invalid_reset_token"

    def default_detail(self) -> str:
        return "The reset token is invalid, expired or already used."


class WrongPassword(AppError):
    status_code = 400
    code = "invalid_current_password"

    def default_detail(self) -> str:
        return "The current password is not correct."


class FreshLoginRequired(AppError):
    """Managing one's credentials (email, password, API keys) needs a real login:
    an API key alone could otherwise take its owner's account over."""

    status_code = 403
    code = "fresh_login_required"

    def default_detail(self) -> str:
        return "This needs a login session (a bearer token from logging in), not an API key."


class ApiKeyNotFound(NotFound):
    code = "api_key_not_found"

    def default_detail(self) -> str:
        return "No such API key."
