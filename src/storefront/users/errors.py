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


class LastAdmin(Conflict):
    code = "last_admin"

    def default_detail(self) -> str:
        return "This is the last active admin: make another admin first."
