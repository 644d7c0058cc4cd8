"""Reading OpenRouter's streamed answer: server-sent events into one completion.

`SSEDecoder` splits the body's bytes into lines exactly where the SSE spec
ends a line (CR, LF or CRLF, nowhere else: JSON may carry U+2028, U+2029
and U+0085 unescaped inside a string, and `str.splitlines`, which httpx's
`aiter_lines` uses, cuts there), skips comments such as
`: OPENROUTER PROCESSING` and returns each event's data. `CompletionBuilder`
folds the JSON chunks into text, tool calls (their deltas merged by
`index`), reasoning (`delta.reasoning`, `delta.reasoning_details`), the
model that answered, the generation id, the finish reason and usage.
Errors inside the stream (a top-level `error`, one inside `choices[0]`,
finish_reason "error") raise StreamError carrying the text received so far.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from ai.errors import InvalidResponse, StreamError, error_from_body

DONE = "[DONE]"

_decode_fast = msgspec.json.Decoder().decode


def decode_chunk(data: str) -> Any:
    """One event's JSON: msgspec first (2 µs a chunk against json's 12 here), else json.

    msgspec refuses what `json.loads` takes (NaN, 1e999, lone surrogate
    escapes); those go to `json.loads`, so every chunk reads exactly as it
    did, and what neither reads raises json's ValueError.
    """
    try:
        return _decode_fast(data)
    except msgspec.DecodeError:
        return json.loads(data)


class SSEDecoder:
    """Server-sent events from raw body bytes, per the spec's line rules.

    Lines end at CRLF, LF or CR only. Splitting bytes, not text, is safe for
    UTF-8 (CR and LF never occur inside a multi-byte sequence) and decodes
    each line once. A CR at the end of one read may be the first half of a
    CRLF split across reads, so it is held until the next byte is seen.
    """

    def __init__(self) -> None:
        self._data: list[str] = []
        self._pending = b""
        self._started = False

    def feed_bytes(self, raw: bytes) -> list[str]:
        """Feed body bytes as they arrive; returns the data of every event they complete."""
        buffer = self._pending + raw
        if not self._started and buffer:
            if buffer.startswith(b"\xef\xbb\xbf"):
                buffer = buffer[3:]  # The spec drops one leading BOM.
            self._started = len(buffer) > 0
        events: list[str] = []
        start = 0
        size = len(buffer)
        while True:
            lf = buffer.find(b"\n", start)
            cr = buffer.find(b"\r", start, lf if lf >= 0 else size)
            if cr >= 0:
                if cr + 1 == size:
                    break  # Maybe CRLF across two reads: wait for the next byte.
                end, after = cr, cr + 2 if buffer[cr + 1 : cr + 2] == b"\n" else cr + 1
            elif lf >= 0:
                end, after = lf, lf + 1
            else:
                break
            data = self.feed(buffer[start:end].decode("utf-8", "replace"))
            if data is not None:
                events.append(data)
            start = after
        self._pending = buffer[start:]
        return events

    def feed(self, line: str) -> str | None:
        """Feed one line (without its end); returns an event's data when one ends."""
        if line == "":
            if not self._data:
                return None
            data = "\n".join(self._data)
            self._data = []
            return data
        if line.startswith(":"):
            return None  # A comment: OpenRouter's keep-alive.
        name, _, value = line.partition(":")
        if name == "data":
            self._data.append(value[1:] if value.startswith(" ") else value)
        # `event`, `id`, `retry`: OpenRouter does not use them for completions.
        return None


@dataclass
class ToolCallData:
    id: str
    name: str
    arguments: str  # JSON text, as the model wrote it

    def as_message(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: Decimal | None = None

    @classmethod
    def from_json(cls, usage: Any) -> Usage | None:
        if not isinstance(usage, dict):
            return None
        cost: Decimal | None = None
        if usage.get("cost") is not None:
            try:
                cost = Decimal(str(usage["cost"]))
            except InvalidOperation:
                cost = None
        return cls(
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            cost=cost,
        )


@dataclass
class Completion:
    """One model turn, streamed or not."""

    text: str = ""
    tool_calls: list[ToolCallData] = field(default_factory=list)
    model: str = ""
    generation_id: str = ""
    finish_reason: str = ""
    usage: Usage | None = None
    # OpenRouter's normalised reasoning blocks, to send back unchanged with the
    # assistant message of a tool round (reasoning models need them to go on).
    reasoning_details: list[dict[str, Any]] = field(default_factory=list)


class _ToolCallParts:
    def __init__(self) -> None:
        self.id = ""
        self.name = ""
        self.arguments: list[str] = []


class CompletionBuilder:
    """Folds chunks into a Completion; `apply` returns the new text of a chunk."""

    def __init__(self, *, model: str = "") -> None:
        self.completion = Completion(model=model)
        self._text: list[str] = []
        self._tools: dict[int, _ToolCallParts] = {}
        self._reasoning: list[dict[str, Any]] = []
        self.reasoning_seen = False  # the model is thinking: alive, though no text yet
        self.done = False  # `data: [DONE]` seen

    @property
    def text(self) -> str:
        return "".join(self._text)

    @property
    def has_tool_calls(self) -> bool:
        return bool(self._tools)

    @property
    def finished(self) -> bool:
        """[DONE] or a finish reason: a stream that ends now is complete."""
        return self.done or bool(self.completion.finish_reason)

    def feed_data(self, data: str) -> str:
        if data.strip() == DONE:
            self.done = True
            return ""
        try:
            chunk = decode_chunk(data)
        except ValueError:
            raise InvalidResponse(
                f"undecodable chunk: {data[:100]!r}",
                model=self.completion.model,
                partial_text=self.text,
            ) from None
        return self.apply(chunk)

    def apply(self, chunk: Any) -> str:
        if not isinstance(chunk, dict):
            raise InvalidResponse("chunk is not an object", partial_text=self.text)
        if chunk.get("model"):
            self.completion.model = str(chunk["model"])
        if chunk.get("id"):
            self.completion.generation_id = str(chunk["id"])
        usage = Usage.from_json(chunk.get("usage"))
        if usage is not None:
            self.completion.usage = usage
        if "error" in chunk:
            self._raise_stream_error(chunk["error"])
        piece: list[str] = []
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or choice.get("message") or {}
            if not isinstance(delta, dict):
                delta = {}
            content = delta.get("content")
            if isinstance(content, str) and content:
                piece.append(content)
            if isinstance(delta.get("reasoning"), str) and delta["reasoning"]:
                self.reasoning_seen = True
            for detail in delta.get("reasoning_details") or []:
                self._merge_reasoning_detail(detail)
            for call in delta.get("tool_calls") or []:
                self._merge_tool_call(call)
            if "error" in choice:
                # Some providers put the error inside the choice: keep its code.
                self._raise_stream_error(choice["error"])
            finish = choice.get("finish_reason")
            if finish == "error":
                self._raise_stream_error({"message": "finish_reason error"})
            if finish:
                self.completion.finish_reason = str(finish)
        text = "".join(piece)
        if text:
            self._text.append(text)
        return text

    def _merge_tool_call(self, call: Any) -> None:
        if not isinstance(call, dict):
            return
        index = call.get("index")
        if not isinstance(index, int):
            # Some providers omit `index`; a new id starts a new call.
            index = len(self._tools) if call.get("id") or not self._tools else len(self._tools) - 1
        parts = self._tools.setdefault(index, _ToolCallParts())
        if call.get("id"):
            parts.id = str(call["id"])
        function = call.get("function") or {}
        name = function.get("name")
        if isinstance(name, str) and name and name != parts.name:
            parts.name += name
        arguments = function.get("arguments")
        if isinstance(arguments, str):
            parts.arguments.append(arguments)
        elif isinstance(arguments, dict):
            parts.arguments.append(json.dumps(arguments, ensure_ascii=False))

    def _merge_reasoning_detail(self, detail: Any) -> None:
        """Fold streamed reasoning_details: pieces of one block share `index` and `type`.

        Text-like fields are concatenated in order; the rest (id, format,
        signature once complete) is taken as it comes.
        """
        if not isinstance(detail, dict):
            return
        self.reasoning_seen = True
        last = self._reasoning[-1] if self._reasoning else None
        if (
            last is not None
            and "index" in detail
            and last.get("index") == detail.get("index")
            and last.get("type") == detail.get("type")
        ):
            for key, value in detail.items():
                if key in _REASONING_TEXT_FIELDS and isinstance(value, str):
                    last[key] = str(last.get(key) or "") + value
                elif value not in (None, ""):
                    last[key] = value
            return
        self._reasoning.append(dict(detail))

    def _raise_stream_error(self, error: Any) -> None:
        mapped = error_from_body(error, status=None, model=self.completion.model)
        raise StreamError(
            mapped.message,
            model=self.completion.model,
            status=mapped.status,
            code=mapped.code,
            metadata=mapped.metadata,
            partial_text=self.text,
            # 400/context length/moderation mid-stream: another try fails the same way.
            retryable=mapped.retryable,
        )

    def result(self) -> Completion:
        self.completion.text = self.text
        self.completion.reasoning_details = self._reasoning
        calls: list[ToolCallData] = []
        seen: set[str] = set()
        for _index, parts in sorted(self._tools.items()):
            call_id = parts.id
            if not call_id or call_id in seen:
                # Some providers repeat one id for parallel calls (or send none);
                # each tool result must answer exactly one call, so make it unique,
                # as OpenRouter's SDK does.
                call_id = f"call_{secrets.token_hex(12)}"
            seen.add(call_id)
            calls.append(
                ToolCallData(
                    id=call_id, name=parts.name, arguments="".join(parts.arguments) or "{}"
                )
            )
        self.completion.tool_calls = calls
        return self.completion


# The parts of a reasoning_details block that stream as pieces of one string.
_REASONING_TEXT_FIELDS = frozenset({"text", "summary", "data"})


def completion_from_body(body: Any, *, model: str, tools_sent: bool) -> Completion:
    """A non-streamed answer (or a JSON body where a stream was expected)."""
    if not isinstance(body, dict):
        raise InvalidResponse("response body is not an object", model=model)
    if "error" in body:
        raise error_from_body(body["error"], status=200, model=model, tools_sent=tools_sent)
    if not body.get("choices"):
        raise InvalidResponse("response without choices", model=model)
    builder = CompletionBuilder(model=model)
    builder.apply(body)
    return builder.result()
