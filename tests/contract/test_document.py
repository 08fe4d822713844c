"""The published document names things as the API does, and promises only what it answers."""

from __future__ import annotations

import re

from service.models import PUBLIC_FIELDS
from tests.contract.conftest import SPEC, resolve


def test_path_parameters_have_their_public_names() -> None:
    for path, operations in SPEC["paths"].items():
        for name in re.findall(r"\{(\w+)\}", path):
            assert name in PUBLIC_FIELDS, path
            for operation in operations.values():
                names = [
                    param["name"] for param in operation["parameters"] if param["in"] == "path"
                ]
                assert names == [name], (path, names)


def test_an_update_is_a_plain_object_with_the_rules_of_a_create() -> None:
    update = resolve({"$ref": "#/components/schemas/EventUpdate"})
    create = resolve({"$ref": "#/components/schemas/EventCreate"})
    assert update["type"] == "object"
    assert not {"anyOf", "oneOf", "allOf", "required"} & update.keys()
    assert update["minProperties"] == 1
    assert update["additionalProperties"] is False
    assert update["properties"].keys() == create["properties"].keys()
    for name, rules in update["properties"].items():
        created = {
            key: value for key, value in create["properties"][name].items() if key != "default"
        }
        assert rules == created, name
        assert not {"anyOf", "oneOf"} & rules.keys(), name


def test_the_public_field_list_is_the_public_schema() -> None:
    assert tuple(SPEC["components"]["schemas"]["Event"]["properties"]) == PUBLIC_FIELDS


def test_only_operations_that_read_a_body_document_a_413() -> None:
    for path, operations in SPEC["paths"].items():
        for method, operation in operations.items():
            assert ("413" in operation["responses"]) == ("requestBody" in operation), (path, method)
