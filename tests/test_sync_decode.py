"""The typed decoder (sync/decode.py) and the general path read every body alike: same batch or same error."""

from __future__ import annotations

import json

import pytest

from app.syncing.api import decode_json
from sync.decode import fast_batch, op_texts
from sync.errors import BatchRejected
from sync.schema import parse_batch

OP = {"op": "a1.7.1795327147795-0000", "seq": 7, "hlc": "1795327147795-0000", "author": "t-1", "entity": "mark",
      "id": "m-1", "action": "upsert", "fields": {"lesson": "l-1", "student": "s-1", "value": "5"}, "base": None}


def general(raw: bytes) -> object:
    """The general path's batch, or its whole-batch error code."""
    try:
        batch = parse_batch(decode_json(raw), 5000, 5000)
    except BatchRejected as exc:
        return exc.code
    op_texts(raw, batch)
    return batch


def body(*ops: object, **extra: object) -> bytes:
    return json.dumps({"protocol": 1, "device": "dev-1", "ops": list(ops), **extra}, ensure_ascii=False).encode()


TAKEN = [
    body(OP),
    body(OP, dict(OP, op="b", seq=8, fields={"value": "4", "comment": "Молодец"})),
    body(OP, pull={"cursor": "12", "limit": 100, "own": True}, results="short"),
    body(OP, rebase={"epoch": "e-1", "from_seq": 3}),
    body(dict(OP, seq=0), dict(OP, seq=2**62), dict(OP, hlc="x"), dict(OP, base=-1), dict(OP, entity="teacher")),
    body(dict(OP, action="delete", fields=None), dict(OP, fields={})),
    body(),
    b'{"protocol":1,"device":"dev-1","ops":[{"op":"a","seq":1,"op":"b","hlc":"1795327147795-0000"}]}',
    body(OP).replace(b'"5"', b'"\\u0035"'),  # an escape, kept in the op's text as sent
]
GENERAL_ONLY = [
    body(OP, extra_key=1),  # an unknown top-level key: ignored, by the general path
    body(dict(OP, fields={"value": 5.0})),  # a float
    body(dict(OP, fields={"value": [1]})),  # a nested value
    body(dict(OP, unknown={"a": [[[]]]})),  # an op's unknown key
    b'{"protocol":1.0,"device":"dev-1","ops":[]}',  # 1.0 is taken as 1
    body(dict(OP, seq=10**30)),  # beyond 64 bits
    body(dict(OP, author="a\u0000")),  # NUL: refused
    b'{"protocol":1,"device":"dev-1","ops":[{"op":"a","author":"\\ud800"}]}',  # a lone surrogate
    b'{"protocol":1,"device":"dev-1","ops":[' + b"[" * 40 + b"]" * 40 + b"]}",  # too deep
    body(OP) + b" x",  # trailing bytes
    b"\xef\xbb\xbf" + body(OP),  # a byte-order mark
    body(OP).replace(b"t-1", b"t-\xff"),  # not UTF-8
    body(OP, pull={"cursor": 12}),  # a bad pull
    body({"op": "bad id!", "seq": 1}),  # a bad op id
    b'{"protocol":true,"device":"dev-1","ops":[]}',
    b'{"protocol":1,"device":"dev-1","ops":[1]}',
    b"[]",
]


@pytest.mark.parametrize("raw", TAKEN)
def test_the_typed_decoder_takes_plain_batches_and_reads_them_as_the_general_path(raw):
    fast = fast_batch(raw, 5000, 5000)
    assert fast is not None
    assert fast == general(raw)
    for op, sent in zip(fast.ops, json.loads(raw)["ops"], strict=True):
        assert op.text is not None and json.loads(op.text) == sent
        assert op.text in raw.decode()  # the op's own bytes, not a new serialisation


@pytest.mark.parametrize("raw", GENERAL_ONLY)
def test_what_the_types_do_not_describe_goes_to_the_general_path(raw):
    assert fast_batch(raw, 5000, 5000) is None
    general(raw)  # decides it: a batch or a whole-batch error


def test_more_ops_than_allowed_go_to_the_general_path_which_refuses_them():
    raw = body(OP, dict(OP, op="b", seq=8))
    assert fast_batch(raw, 1, 5000) is None
    with pytest.raises(BatchRejected) as refused:
        parse_batch(decode_json(raw), 1, 5000)
    assert refused.value.code == "too_large"


def test_fewer_collections_inside_and_the_thresholds_as_they_were_after():
    import gc

    from app.base.gcpause import fewer_collections

    before = gc.get_threshold()
    with fewer_collections(50_000):
        with fewer_collections(10):
            assert gc.get_threshold()[0] == max(before[0], 50_000)
        assert gc.get_threshold()[0] == max(before[0], 50_000)
    assert gc.get_threshold() == before
