"""Case import from CSV/XLSX: mapping, validation, transactional upsert."""

from cases.importer.fields import FIELDS, REQUIRED, ColumnMapping, MappingError
from cases.importer.load import CaseImporter, ImportReport
from cases.importer.reader import UnreadableFile
from cases.importer.record import CaseRecord, FieldError

__all__ = ["FIELDS", "REQUIRED", "CaseImporter", "CaseRecord", "ColumnMapping", "FieldError", "ImportReport",
           "MappingError", "UnreadableFile"]
