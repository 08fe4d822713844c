"""A content digest of the Docker build context, used as the image's immutable tag.

The repository refuses to move a tag (immutable tags), so each build needs a tag that
changes exactly when the image can change. pulumi-docker's `Image` rebuilds and pushes
when its own digest of the context changes: every file that `.dockerignore` leaves in,
by relative path, mode and content. This digest covers at least the same files and the
same facts plus the build settings, so whenever pulumi-docker would push, the tag is new,
and when nothing changed, neither does the tag, the image or the function.

`.dockerignore` follows Docker's rules (moby/patternmatcher): patterns in order, the last
match wins, `!` re-includes, a pattern that matches a parent directory matches everything
below it. A pattern this module cannot read exactly (character classes, escapes) is taken
as excluding nothing, or re-including everything: hashing too many files only costs a
rebuild, hashing too few could reuse a tag for a different image.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

TAG_LENGTH = 16


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern[str] | None  # None: syntax this module does not interpret
    exclusion: bool  # a "!" line: re-includes what it matches
    text: str  # as normalised, for the literal part before any wildcard

    def may_match_below(self, directory: str) -> bool:
        """Whether this pattern could match a path inside `directory` (conservative)."""
        if self.regex is None:
            return True  # uninterpreted: taken as matching everything
        wildcard = re.search(r"[*?\[\\]", self.text)
        literal = self.text[: wildcard.start()] if wildcard else self.text
        return literal.startswith(f"{directory}/") or f"{directory}/".startswith(literal)


def _compile(pattern: str) -> re.Pattern[str] | None:
    regex = ""
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**", index):
            index += 2
            if pattern.startswith("/", index):
                index += 1
            # Docker: "**" at the end matches everything, elsewhere any number of directories.
            regex += ".*" if index == len(pattern) else "(.*/)?"
            continue
        if char == "*":
            regex += "[^/]*"
        elif char == "?":
            regex += "[^/]"
        elif char in "[\\":
            return None
        else:
            regex += re.escape(char)
        index += 1
    return re.compile(f"^{regex}$")


def read_dockerignore(context: Path) -> list[_Pattern]:
    path = context / ".dockerignore"
    if not path.is_file():
        return []
    patterns = []
    for line in path.read_text().splitlines():
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        exclusion = text.startswith("!")
        text = os.path.normpath(text[1:].strip() if exclusion else text).replace(os.sep, "/")
        if len(text) > 1 and text.startswith("/"):
            text = text[1:]
        patterns.append(_Pattern(_compile(text), exclusion, text))
    return patterns


def _matches(pattern: _Pattern, path: str) -> bool:
    if pattern.regex is None:
        # Unknown syntax: never exclude on its account, always re-include.
        return pattern.exclusion
    parts = path.split("/")
    return any(pattern.regex.match("/".join(parts[: depth + 1])) for depth in range(len(parts)))


def is_ignored(patterns: list[_Pattern], path: str) -> bool:
    """Whether Docker leaves `path` (relative, with '/') out of the build context."""
    ignored = False
    for pattern in patterns:
        if _matches(pattern, path):
            ignored = not pattern.exclusion
    return ignored


def context_files(context: Path) -> Iterator[Path]:
    """The files Docker sends as build context, in a stable order."""
    patterns = read_dockerignore(context)
    exclusions = [pattern for pattern in patterns if pattern.exclusion]
    for root, dirs, files in os.walk(context):
        base = Path(root)
        relative_root = base.relative_to(context).as_posix()
        prefix = "" if relative_root == "." else f"{relative_root}/"
        entries = list(files)
        for name in list(dirs):
            if (base / name).is_symlink():
                dirs.remove(name)
                entries.append(name)
            elif is_ignored(patterns, prefix + name) and not any(
                pattern.may_match_below(prefix + name) for pattern in exclusions
            ):
                # Nothing below an ignored directory can come back: skip it whole.
                dirs.remove(name)
        dirs.sort()
        for name in sorted(entries):
            if not is_ignored(patterns, prefix + name):
                yield base / name


def _file_digest(path: Path) -> bytes:
    if path.is_symlink():
        return hashlib.sha256(os.readlink(path).encode()).digest()
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.digest()


def context_digest(context: Path, dockerfile: Path, settings: Mapping[str, object]) -> str:
    """SHA-256 over the Dockerfile, each context file (path, mode, content) and the settings."""
    total = hashlib.sha256()
    total.update(json.dumps(settings, sort_keys=True).encode() + b"\0")
    total.update(_file_digest(dockerfile) + b"\0")
    for path in context_files(context):
        mode = stat.filemode(path.lstat().st_mode)
        total.update(f"{path.relative_to(context).as_posix()}\0{mode}\0".encode())
        total.update(_file_digest(path) + b"\0")
    return total.hexdigest()


def image_tag(context: Path, dockerfile: Path, settings: Mapping[str, object]) -> str:
    return context_digest(context, dockerfile, settings)[:TAG_LENGTH]
