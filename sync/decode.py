"""A batch body decoded in C (msgspec), each op with the bytes it was sent as.

ALGORITHM:
1. The body is decoded against the batch's types in one pass of C: the envelope's known keys, each op as the
   bytes it was sent as (`msgspec.Raw`), then each op against the op's types (strings, integers of at most
   64 bits, booleans, null, and one level of `fields` holding those). Nothing else is allowed: no unknown key in
   the envelope, no float, no deeper value, no `\\u0000` or surrogate escape.
2. What passes is exactly the data Python's `json` module would have read, so `sync.schema.parse_batch` judges it
   unchanged (same `Batch`, or the same whole-batch error); each op then keeps its original text for the log.
3. Anything else answers None: the caller takes the general path (strict `json` with its own checks, then
   `parse_batch`), which decides every body. The fast path only takes bodies on which both agree, so a batch
   has the same outcome whichever path read it. `op_texts` finds the ops' original texts for that path too.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import msgspec

from sync.errors import BatchRejected
from sync.schema import Batch, parse_batch

Int64 = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
Scalar = str | Int64 | bool | None
OpValue = Scalar | dict[str, Scalar]
SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")  # NUL or a (lone) surrogate


class _Envelope(msgspec.Struct, forbid_unknown_fields=True):
    protocol: Int64
    device: str
    ops: list[msgspec.Raw]
    pull: dict[str, Scalar] | None = None
    rebase: dict[str, Scalar] | None = None
    results: str | None = None


class _Slices(msgspec.Struct):
    ops: list[msgspec.Raw]


_ENVELOPE = msgspec.json.Decoder(_Envelope)
_OP = msgspec.json.Decoder(dict[str, OpValue])
_SLICES = msgspec.json.Decoder(_Slices)


def fast_batch(raw: bytes, max_ops: int, max_pull: int) -> Batch | None:
    """The batch of a body the typed decoder vouches for (its ops carrying their texts), or None."""
    if SUSPECT_ESCAPE.search(raw):
        return None
    try:
        envelope = _ENVELOPE.decode(raw)
        texts = [bytes(op).decode() for op in envelope.ops]
        body: dict[str, Any] = {"protocol": envelope.protocol, "device": envelope.device,
                                "ops": [_OP.decode(text) for text in texts]}
    except (msgspec.MsgspecError, UnicodeDecodeError, RecursionError):
        return None
    for key in ("pull", "rebase", "results"):
        value = getattr(envelope, key)
        if value is not None:
            body[key] = value
    try:
        batch = parse_batch(body, max_ops, max_pull)
    except BatchRejected:
        return None  # the general path gives the error, in its order of checks
    for op, text in zip(batch.ops, texts, strict=True):
        op.text = text
    return batch


def op_texts(raw: bytes, batch: Batch) -> None:
    """Give each op of a batch read by the general path its original text, when the body shows it."""
    try:
        slices = _SLICES.decode(raw).ops
    except (msgspec.MsgspecError, RecursionError):
        return
    if len(slices) == len(batch.ops):
        for op, text in zip(batch.ops, slices, strict=True):
            op.text = bytes(text).decode()
