"""`lessonpress import`: read an archive of past issues, recognise each lesson's parts, write lesson files."""

from .plan import ImportPlan, Row, plan_import
from .sources import read_archive
from .write import ImportFailed, write_plan

__all__ = ["ImportFailed", "ImportPlan", "Row", "plan_import", "read_archive", "write_plan"]
