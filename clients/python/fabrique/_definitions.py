"""Entity and feature group definitions as `Features.apply` takes them: the same JSON as
`fabrique features apply FILE` ({"entities": [...], "feature_groups": [...]} in the proto JSON
mapping), a list of such entries or of the messages themselves, or a path to a JSON file."""

from __future__ import annotations

import dataclasses
import os
import pathlib
from typing import Any, List, Mapping, Sequence, Tuple, Union

from google.protobuf import json_format

from fabrique._specs import read_json_file
from fabrique.errors import InvalidInput
from fabrique.v1 import features_pb2 as f

Definitions = Union[Mapping[str, Any], Sequence[Any], str, os.PathLike]


@dataclasses.dataclass(frozen=True)
class Applied:
    """What `apply` did to one definition.

    Attributes:
      kind:           "entity" or "group".
      name:           the entity's or the group's name.
      outcome:        "created", "updated" or "unchanged" ("would be created", ... in a dry run;
                      "not checked" for a group whose entity a dry run would create first).
      schema_version: a group's schema version after the apply; 0 for an entity.
      added_features: the features the apply added to a group (a new schema version).
    """
    kind: str
    name: str
    outcome: str
    schema_version: int = 0
    added_features: Tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """True if the apply created or updated it (or would, in a dry run)."""
        return self.outcome not in ("unchanged", "not checked")


def _parse(entry: Any, message_type: Any, where: str) -> Any:
    if isinstance(entry, message_type):
        return entry
    if not isinstance(entry, Mapping):
        raise InvalidInput(f"{where}: expected a JSON object or a {message_type.__name__}, got "
                           f"{type(entry).__name__}")
    try:
        return json_format.ParseDict(entry, message_type())
    except json_format.ParseError as error:
        raise InvalidInput(f"{where}: {error}") from None


def _kind_of(entry: Any) -> str:
    if isinstance(entry, f.Entity):
        return "entity"
    if isinstance(entry, f.FeatureGroupSpec):
        return "group"
    if isinstance(entry, Mapping):
        if "join_key" in entry or "joinKey" in entry:
            return "entity"
        if "features" in entry or "entity" in entry:
            return "group"
    raise InvalidInput(f"cannot tell whether {entry!r} is an entity (it would have a join_key) "
                       "or a feature group (it would have an entity and features)")


def read_definitions(definitions: Definitions) -> Tuple[List[f.Entity],
                                                        List[f.FeatureGroupSpec]]:
    """The entities and the groups `definitions` names, in its order. Raises InvalidInput naming
    the entry that does not parse, or a file that cannot be read."""
    if isinstance(definitions, (str, os.PathLike)):
        path = pathlib.Path(definitions)
        definitions = read_json_file(path, "definitions")
        if not isinstance(definitions, Mapping):
            raise InvalidInput(f"{path}: expected a JSON object with \"entities\" and "
                               "\"feature_groups\"")
    entities: List[f.Entity] = []
    groups: List[f.FeatureGroupSpec] = []
    if isinstance(definitions, Mapping):
        for key, entries in definitions.items():
            if key not in ("entities", "feature_groups", "featureGroups"):
                raise InvalidInput(f"unknown key {key!r} (expected \"entities\" and "
                                   "\"feature_groups\")")
            if not isinstance(entries, Sequence) or isinstance(entries, str):
                raise InvalidInput(f"{key!r} must be a list")
            name = "entities" if key == "entities" else "feature_groups"
            for i, entry in enumerate(entries):
                if name == "entities":
                    entities.append(_parse(entry, f.Entity, f"{name}[{i}]"))
                else:
                    groups.append(_parse(entry, f.FeatureGroupSpec, f"{name}[{i}]"))
        return entities, groups
    for i, entry in enumerate(definitions):
        if _kind_of(entry) == "entity":
            entities.append(_parse(entry, f.Entity, f"definitions[{i}]"))
        else:
            groups.append(_parse(entry, f.FeatureGroupSpec, f"definitions[{i}]"))
    return entities, groups
