"""What every area of the client (train, models, monitor, tower) shares: its service's stub,
and lists read page by page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, List

if TYPE_CHECKING:
    from fabrique.client import Client


class Area:
    """One service's calls on a Client."""

    def __init__(self, client: "Client", service: str, stub_class: Callable[[Any], Any]) -> None:
        self._client = client
        self._stub = client.stub(service, stub_class)

    def _pages(self, method: Any, request: Any, field_name: str) -> List[Any]:
        """Every item of a paged list call (`field_name` of each response), following
        next_page_token."""
        items: List[Any] = []
        while True:
            response = self._client.call(method, request, idempotent=True)
            items.extend(getattr(response, field_name))
            if not response.next_page_token:
                return items
            request.page_token = response.next_page_token
