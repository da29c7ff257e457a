from storefront.errors import Conflict, NotFound


class UserNotFound(NotFound):
    code = "user_not_found"

    def default_detail(self) -> str:
        return "No such user."


class LastAdmin(Conflict):
    code = "last_admin"

    def default_detail(self) -> str:
        return "This is the last active admin: make another admin first."
