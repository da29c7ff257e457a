from storefront.errors import Conflict, NotFound, Unprocessable


class UserNotFound(NotFound):
    code = "user_not_found"

    def default_detail(self) -> str:
        return "No such user."


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
