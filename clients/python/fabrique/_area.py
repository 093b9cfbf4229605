"""What every area of the client (train, models, monitor, tower) shares: its service's stub,
made on first use, and lists read page by page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, List

if TYPE_CHECKING:
    from fabrique.client import Client


class Area:
    """One service's calls on a Client."""

    def __init__(self, client: "Client", service: str, stub_class: Callable[[Any], Any]) -> None:
        self._client = client
        self._service = service
        self._stub_class = stub_class
        self._stub_instance: Any = None

    @property
    def _stub(self) -> Any:
        # Made on first use, not in __init__: the client builds its areas under its lock, which
        # opening a channel takes too.
        if self._stub_instance is None:
            self._stub_instance = self._client.stub(self._service, self._stub_class)
        return self._stub_instance

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
