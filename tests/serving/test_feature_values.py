"""The gateway reads stored feature values exactly as Feast's own conversion would."""

import pytest
from feast.protos.feast.types.Value_pb2 import Null, Value
from feast.type_map import feast_value_type_to_python_type

from mlops_assets.serving.backends import _python


@pytest.mark.parametrize(
    "value",
    [
        Value(int64_val=7),
        Value(int32_val=-3),
        Value(double_val=0.125),
        Value(float_val=1.5),
        Value(string_val="fiber"),
        Value(bool_val=True),
        Value(),
        Value(null_val=Null.NULL),
        Value(unix_timestamp_val=1_767_225_600),
    ],
    ids=lambda v: v.WhichOneof("val") or "unset",
)
def test_a_stored_value_reads_as_feast_converts_it(value):
    assert _python(value) == feast_value_type_to_python_type(value)
    assert type(_python(value)) is type(feast_value_type_to_python_type(value))
