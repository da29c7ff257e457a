from storefront.errors import Conflict, NotFound, Unprocessable


class WebhookNotFound(NotFound):
    code = "webhook_not_found"

    def default_detail(self) -> str:
        return "No such webhook endpoint."


class DeliveryNotFound(NotFound):
    code = "delivery_not_found"

    def default_detail(self) -> str:
        return "No such delivery for this webhook endpoint."


class UnsafeURLError(Unprocessable):
    code = "unsafe_url"

    def default_detail(self) -> str:
        return "The URL must be https:// and resolve to public addresses only."


class WebhookInactive(Conflict):
    code = "webhook_inactive"

    def default_detail(self) -> str:
        return "The endpoint is disabled: nothing is sent to it until it is made active again."
