"""URIs to filesystems (``s3://``, ``gs://``, ``abfs://``, ``file://``...), for input and output.

Every path that odse reads or writes may be a URI. ``pyarrow.fs`` opens it
(``S3FileSystem``, ``GcsFileSystem``, ``AzureFileSystem``, ``HadoopFileSystem``,
``LocalFileSystem``); a scheme pyarrow has no filesystem for is opened through fsspec when
fsspec (and the package for that scheme) is installed.

Credentials and endpoints come from the settings users of each store already have, read by
the store's own SDK inside pyarrow: for S3 ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/
``AWS_SESSION_TOKEN``, ``AWS_PROFILE`` with ``~/.aws/config`` and ``~/.aws/credentials``,
``AWS_REGION``/``AWS_DEFAULT_REGION``, ``AWS_ENDPOINT_URL`` (or ``AWS_ENDPOINT_URL_S3``) for
MinIO and other S3-compatible servers, instance and container roles; for Google Cloud
``GOOGLE_APPLICATION_CREDENTIALS``; for Azure ``AZURE_STORAGE_ACCOUNT_NAME`` with
``AZURE_STORAGE_ACCOUNT_KEY`` or the default Azure credential chain. Options in the URI's
query (``s3://bucket/lake?endpoint_override=127.0.0.1:9000&scheme=http``) win over them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow.fs as pafs

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_uri(text: Any) -> bool:
    """True for ``scheme://...`` text (a Windows path such as ``C:\\data`` is not a URI)."""
    return isinstance(text, str) and bool(_URI.match(text))


def from_uri(uri: str) -> tuple[pafs.FileSystem, str]:
    """Return (filesystem, path inside it) for a URI; raise ValueError with the reason.

    pyarrow's own filesystems first; fsspec for schemes pyarrow does not know.
    """
    import pyarrow as pa
    import pyarrow.fs as pafs

    try:
        return pafs.FileSystem.from_uri(uri)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError, ValueError) as exc:
        first = exc
    scheme = uri.split("://", 1)[0].lower()
    try:
        import fsspec
    except ImportError:
        raise ValueError(f"{first} (pyarrow has no '{scheme}' filesystem: pip install "
                         f"fsspec, and the package fsspec names for '{scheme}://' URIs if it "
                         "needs one)") from None
    try:
        fs, path = fsspec.core.url_to_fs(uri)
    except (ImportError, ValueError, OSError) as exc:
        raise ValueError(f"{first}; fsspec: {exc}") from None
    return pafs.PyFileSystem(pafs.FSSpecHandler(fs)), path
