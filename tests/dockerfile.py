"""The Dockerfile read as BuildKit reads it: global arguments, then stages of instructions."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Instruction:
    keyword: str
    arguments: str


@dataclass
class Stage:
    base: str
    name: str | None
    platform: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [item for item in self.instructions if item.keyword == keyword]


@dataclass
class Dockerfile:
    global_arguments: dict[str, str]
    stages: list[Stage]

    def stage(self, name: str) -> Stage:
        (stage,) = [stage for stage in self.stages if stage.name == name]
        return stage


def parse_dockerfile(text: str) -> Dockerfile:
    logical: list[str] = []
    pending = ""
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue  # comments, the syntax directive, and comments inside an instruction
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    arguments: dict[str, str] = {}
    stages: list[Stage] = []
    for line in filter(str.strip, logical):
        keyword, _, rest = line.strip().partition(" ")
        keyword, rest = keyword.upper(), rest.strip()
        if keyword == "FROM":
            words = rest.split()
            platform = None
            if words[0].startswith("--platform="):
                platform = words.pop(0).removeprefix("--platform=")
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(words[0], name, platform))
        elif not stages and keyword == "ARG":
            name, _, default = rest.partition("=")
            arguments[name] = default
        else:
            stages[-1].instructions.append(Instruction(keyword, rest))
    return Dockerfile(arguments, stages)
