"""The training doctor: pre-flight checks before training, a diagnosis of the curves after it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from mlexp.errors import MlexpError

PREFLIGHT = "preflight.json"
DIAGNOSIS = "diagnosis.json"
REPORT = "report.md"


class PreflightError(MlexpError):
    """A pre-flight check found a mistake that would waste the training run."""

    exit_code = 2


@dataclass(frozen=True)
class Finding:
    code: str  # stable name, e.g. "zeros_initializer"
    severity: str  # "error" stops a run before training; "warning" is recorded and shown; "info" just says
    message: str
    suggestion: str  # an override (or two) to try
    evidence: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        return f"{self.severity.upper()} [{self.code}] {self.message} Try: {self.suggestion}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "error"]
