"""`Provider`: one vendor account (app id, credentials by reference, optional endpoint and rate).

The credential names each vendor needs come from its descriptor (`reconciler.vendors`); values are
references, resolved only by providers.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from reconciler.model.base import SecretRef, StrictModel, Vendor
from reconciler.model.registry import register_kind


@register_kind("Provider", managed=False)
class ProviderSpec(StrictModel):
    vendor: Vendor
    app_id: str = Field(min_length=1, max_length=128)
    endpoint: str | None = None
    credentials: dict[str, SecretRef]
    rate_limit: float | None = Field(default=None, gt=0, le=10000)
    region: str | None = None
    test: bool = False  # ZEGO's test environment
    admin: str | None = None  # Tencent: the App admin identifier UserSigs are made for

    @field_validator("app_id", mode="before")
    @classmethod
    def _app_id_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value
