"""Building blocks shared by every manifest kind: strict models, secret references, metadata."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic.alias_generators import to_camel

from reconciler.vendors import vendor_names

API_VERSION = "reconciler/v1"
VENDORS: tuple[str, ...] = tuple(sorted(vendor_names()))
if TYPE_CHECKING:
    Vendor = str
else:  # one of the registered vendors, as a Literal so errors and the JSON schema list them
    Vendor = Literal[VENDORS]

NAME_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
ResourceName = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
HEX_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")


def empty_list() -> list[Any]:
    """`default_factory` of list fields. Not `list` itself: pydantic reads each factory's signature, and a
    builtin's is parsed with tokenize, whose regexes take milliseconds of every start-up to compile."""
    return []


class StrictModel(BaseModel):
    """Unknown fields are errors (the loader adds a did-you-mean); YAML keys are camelCase."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        str_strip_whitespace=False,
        strict=True,
    )


class SecretRef(StrictModel):
    """Where a secret lives: an environment variable or a file. Never the value itself."""

    env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    file: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "SecretRef":
        if (self.env is None) == (self.file is None):
            raise ValueError("a secret reference needs exactly one of `env: NAME` or `file: PATH`")
        return self

    def describe(self) -> str:
        """How the reference is shown to people: `env:NAME` or `file:PATH`, never the value."""
        return f"env:{self.env}" if self.env is not None else f"file:{self.file}"

    def as_data(self) -> dict[str, str]:
        return {"env": self.env} if self.env is not None else {"file": str(self.file)}


class Metadata(StrictModel):
    name: ResourceName
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class Envelope(BaseModel):
    """The outer shape every document shares; `spec` is validated by the kind's own model."""

    model_config = ConfigDict(extra="forbid")

    apiVersion: Literal["reconciler/v1"]
    kind: str
    metadata: Metadata
    spec: dict[str, Any]


def is_hex_colour(value: str) -> bool:
    return bool(HEX_COLOUR.match(value))
