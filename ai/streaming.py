"""Reading OpenRouter's streamed answer: server-sent events into one completion.

`SSEDecoder` turns lines into event payloads (comments such as
`: OPENROUTER PROCESSING` are skipped); `CompletionBuilder` folds the JSON
chunks into text, tool calls (their deltas merged by `index`), the model
that answered, the generation id, the finish reason and usage. Errors inside
the stream (a top-level `error`, finish_reason "error") raise StreamError
carrying the text received so far.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from ai.errors import InvalidResponse, StreamError, error_from_body

DONE = "[DONE]"


class SSEDecoder:
    """Server-sent events, line by line (the subset OpenRouter uses, per the spec)."""

    def __init__(self) -> None:
        self._data: list[str] = []

    def feed(self, line: str) -> str | None:
        """Feed one line (without its newline); returns an event's data when one ends."""
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
            chunk = json.loads(data)
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
            content = delta.get("content")
            if isinstance(content, str) and content:
                piece.append(content)
            for call in delta.get("tool_calls") or []:
                self._merge_tool_call(call)
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

    def _raise_stream_error(self, error: Any) -> None:
        mapped = error_from_body(error, status=None, model=self.completion.model)
        raise StreamError(
            mapped.message,
            model=self.completion.model,
            code=mapped.code,
            metadata=mapped.metadata,
            partial_text=self.text,
        )

    def result(self) -> Completion:
        self.completion.text = self.text
        self.completion.tool_calls = [
            ToolCallData(
                id=parts.id or f"call_{index}",
                name=parts.name,
                arguments="".join(parts.arguments) or "{}",
            )
            for index, parts in sorted(self._tools.items())
        ]
        return self.completion


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
