"""Provides the PC/SC reader through pyscard: readers, connections, a watcher that survives pcscd, and PC/SC errors mapped to the catalogue."""
from devices.pcsc.connection import PcscConnection
from devices.pcsc.reader import PROTOCOLS, PcscReader, ReaderStatus, list_readers
from devices.pcsc.status import error_name, pcsc_error
from devices.pcsc.watcher import PNP_NOTIFICATION

__all__ = ["PNP_NOTIFICATION", "PROTOCOLS", "PcscConnection", "PcscReader", "ReaderStatus", "error_name",
           "list_readers", "pcsc_error"]
