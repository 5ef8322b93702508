"""Bounded reads of single objects for the API: the tail of an object (one ranged GET,
`Range: bytes=-N`), its size (HEAD), and a streamed download in chunks. Nothing
reads a whole object into memory.

Every failure is a `ReadFailed` with a message a page can show: `ObjectMissing`
(no such object), `ReadDenied`, `S3Unavailable` (unreachable, timing out, 5xx).
Which objects may be read is the caller's rule (`tracker.domain.runfiles.confine`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from tracker.domain.runfiles import Span, parse_content_range, tail_header
from tracker.domain.s3url import S3Url
from tracker.s3.client import S3Client, make_client
from tracker.s3.errors import error_code, is_denied
from tracker.settings import S3ReadSettings, S3Settings

_MISSING = {"NoSuchKey", "404", "NotFound", "NoSuchBucket"}


class ReadFailed(RuntimeError):
    """A read that did not happen; the message says what and why, and leaks no internals."""


class ObjectMissing(ReadFailed):
    pass


class ReadDenied(ReadFailed):
    pass


class S3Unavailable(ReadFailed):
    pass


@dataclass(frozen=True)
class Tail:
    data: bytes
    span: Span


@dataclass
class Download:
    """An open GET: its size and type, and its body as chunks (closed once iterated)."""

    size: int
    content_type: str | None
    body: Any
    chunk_bytes: int

    def chunks(self) -> Iterator[bytes]:
        try:
            yield from self.body.iter_chunks(self.chunk_bytes)
        finally:
            self.body.close()

    def close(self) -> None:
        self.body.close()


class Reader:
    """Reads objects through one client, made on first use (timeouts and attempts
    from `S3ReadSettings`: a page waits seconds, not minutes, when S3 is down)."""

    def __init__(self, s3: S3Settings, reads: S3ReadSettings, client: S3Client | None = None) -> None:
        self._s3, self._reads, self._client = s3, reads, client

    @property
    def client(self) -> S3Client:
        if self._client is None:
            self._client = make_client(
                self._s3,
                pool=16,
                max_attempts=self._reads.max_attempts,
                timeouts=(self._reads.connect_timeout_seconds, self._reads.read_timeout_seconds),
            )
        return self._client

    def size(self, url: S3Url) -> int:
        with _failures(url):
            return int(self.client.head_object(Bucket=url.bucket, Key=url.key)["ContentLength"])

    def tail(self, url: S3Url, wanted: int) -> Tail:
        """The last `wanted` bytes (all of an object that is smaller)."""
        with _failures(url):
            try:
                answer = self.client.get_object(Bucket=url.bucket, Key=url.key, Range=tail_header(wanted))
            except ClientError as error:
                if error_code(error) != "InvalidRange":
                    raise
                return Tail(b"", Span(0, -1, self.size(url)))  # an empty object has no last bytes
            body = answer["Body"]
            try:
                data = body.read(wanted)
            finally:
                body.close()
            try:
                span = parse_content_range(answer.get("ContentRange"), int(answer.get("ContentLength", len(data))))
            except ValueError as error:
                raise S3Unavailable(f"S3 answered an unexpected range for {url}") from error
            return Tail(data, span)

    def open(self, url: S3Url) -> Download:
        """The object's GET, its body not read yet."""
        with _failures(url):
            answer = self.client.get_object(Bucket=url.bucket, Key=url.key)
            return Download(
                int(answer["ContentLength"]), answer.get("ContentType"), answer["Body"], self._reads.chunk_bytes
            )


class _failures:
    """botocore's errors as `ReadFailed`s naming `url`."""

    def __init__(self, url: S3Url) -> None:
        self.url = url

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, traceback: Any) -> None:
        if isinstance(error, ClientError):
            code = error_code(error)
            if code in _MISSING or error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                raise ObjectMissing(f"{self.url} does not exist (yet, or any more)") from error
            if is_denied(error):
                raise ReadDenied(f"S3 denied reading {self.url}: check the API's S3 read credentials") from error
            raise S3Unavailable(f"S3 could not answer for {self.url} ({code or 'error'}); try again later") from error
        if isinstance(error, NoCredentialsError):
            raise ReadDenied(f"the API has no S3 credentials to read {self.url}") from error
        if isinstance(error, BotoCoreError):
            raise S3Unavailable(f"S3 is unavailable: {self.url} cannot be read now; try again later") from error
