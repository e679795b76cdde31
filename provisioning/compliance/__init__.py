"""`provision compliance`: the level's technical controls checked on every server, with evidence, for the
level dossier (controls.py: the catalogue and checks; collect.py: the reads; run.py: the outputs)."""
from .controls import CONTROLS, MANUAL, TECHNICAL, Facts
from .run import ComplianceReport, Finding, compliance, report, write

__all__ = ["CONTROLS", "MANUAL", "TECHNICAL", "ComplianceReport", "Facts", "Finding", "compliance", "report",
           "write"]
