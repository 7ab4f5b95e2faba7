"""The file handler behind LOGGING and gunicorn's access log: one write(2) per record, nothing lost silently.

Every line it writes is formatted by log_lines.py (the app's records) or access_lines.py (the access line).
Standard library only.
"""

import errno
import fcntl
import logging
import logging.handlers
import os
import sys
import weakref

# The mode of a log file AppendOnlyFileHandler creates: the owner writes, the group (the log shipper's)
# reads, others nothing.
FILE_PERMISSIONS = 0o640
# Closes a line that a cut write left without its newline, before the next record.
CUT_MARKER = "...[record cut short by a failed write]"


def _describe(error: OSError) -> str:
    if error.errno in errno.errorcode:
        return f"{error.strerror} ({errno.errorcode[error.errno]})"
    return str(error)


class AppendOnlyFileHandler(logging.handlers.WatchedFileHandler):
    """A WatchedFileHandler that writes each record with one write(2) on an O_APPEND file.

    Several gunicorn workers append to the same file: a single append is never
    interleaved with another process's, whatever the record's size, and the
    file is reopened when logrotate renames it.

    A write that fails, or is cut short by a full disk, loses its record. The
    first loss is reported on stderr with its cause, the next ones only counted,
    and the first write that works again reports how many were lost. A record
    never continues a line a cut write left open, whichever process cut it: unless
    the file ends where this handler's last whole record did, the handler reads its
    last byte and first closes that line with CUT_MARKER. Each append, with that
    check, holds an exclusive flock(2) of the file, on an open file of this process's
    own: a forked child reopens the file before its first append.

    A file the handler creates gets exactly ``permissions`` (FILE_PERMISSIONS: owner read-write, group
    read), whatever the process's umask: the log shipper reads it as a member of the file's group, and a
    umask of 077 would otherwise lock it out of every file created after a rotation, unnoticed until
    then. A file that already exists keeps its mode.
    """

    def __init__(self, filename, mode="a+", encoding=None, delay=False, errors=None, permissions=FILE_PERMISSIONS):
        # Set before the parent's __init__, which opens the file unless delay.
        self.permissions = permissions
        # "a+" (O_APPEND | O_RDWR): the last byte must be readable.
        super().__init__(filename, mode, encoding, delay, errors)
        self.failure: str | None = None
        self.lost_records = 0
        # The size of the open file just after this handler's last whole record; -1: unknown.
        self._own_end = -1
        # Set in a forked child: the file was opened by the parent (_after_fork_in_child).
        self._inherited = False
        _HANDLERS.add(self)

    def _open(self):
        # FileHandler._open (logging/__init__.py), with an opener that sets the mode of a file it creates;
        # WatchedFileHandler reopens through it after a rename (logging/handlers.py, reopenIfNeeded).
        return open(self.baseFilename, self.mode, encoding=self.encoding, errors=self.errors, opener=self._opener)

    def _opener(self, path: str, flags: int) -> int:
        """open(2) for open(): a file this call creates gets exactly ``permissions``."""
        if not flags & os.O_CREAT:
            return os.open(path, flags)
        while True:
            try:
                descriptor = os.open(path, flags | os.O_EXCL, self.permissions)
            except FileExistsError:
                try:
                    return os.open(path, flags & ~os.O_CREAT)
                except FileNotFoundError:  # removed between the two calls: create it after all
                    continue
            try:
                os.fchmod(descriptor, self.permissions)  # the bits the umask took off
            except OSError:
                os.close(descriptor)
                raise
            return descriptor

    def emit(self, record: logging.LogRecord) -> None:
        try:
            data = (self.format(record) + self.terminator).encode("utf-8", "backslashreplace")
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)
            return
        try:
            self._append(data)
        except OSError as error:
            self._lost(_describe(error))
            return
        if self.failure is not None:
            self._report(f"{self.baseFilename} is writable again; {self.lost_records} record(s) were lost")
            self.failure, self.lost_records = None, 0

    def _append(self, data: bytes) -> None:
        size = self._lock_current_file()
        descriptor = self.stream.fileno()
        try:
            # A file that ends where our last whole record did ends with its newline: no pread(2).
            if size and size != self._own_end and os.pread(descriptor, 1, size - 1) != b"\n":
                data = CUT_MARKER.encode() + b"\n" + data
            self._own_end = -1
            written = os.write(descriptor, data)
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
        if written < len(data):
            raise OSError(f"only {written} of {len(data)} bytes written: the disk is full or a size limit was reached")
        self._own_end = size + written

    def _lock_current_file(self) -> int:
        """Lock the file now at baseFilename (reopened after a rename or a failed open); return its size.

        Linux raises a file's size page by page while a write(2) runs, so another worker's
        record can be seen half written. Every handler appends under this lock: the size and
        last byte are read only between two whole appends. One stat(2) of the path, under the
        lock, both notices a rename and gives the size of the file we hold, if it is still there.
        """
        if self._inherited and self.stream is not None:
            # A forked child shares the parent's open file description, and flock(2) does not exclude
            # holders of one description from each other: the child opens its own.
            self.stream.close()
            self.stream = None
        self._inherited = False
        if self.stream is not None:
            descriptor = self.stream.fileno()
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            try:
                status = os.stat(self.baseFilename)
            except FileNotFoundError:
                status = None
            except OSError:
                fcntl.flock(descriptor, fcntl.LOCK_UN)
                raise
            if status is not None and status.st_dev == self.dev and status.st_ino == self.ino:
                return status.st_size
            fcntl.flock(descriptor, fcntl.LOCK_UN)
            self.stream.close()
            self.stream = None
        self._own_end = -1
        self.stream = self._open()
        self._statstream()
        descriptor = self.stream.fileno()
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        try:
            return os.fstat(descriptor).st_size
        except OSError:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
            raise

    def _lost(self, cause: str) -> None:
        self.lost_records += 1
        if self.failure is None:
            self.failure = cause
            self._report(f"cannot write {self.baseFilename}: {cause}; records are lost (and counted) until it works again")

    @staticmethod
    def _report(text: str) -> None:
        try:
            sys.stderr.write(f"logging (pid {os.getpid()}): {text}\n")
            sys.stderr.flush()
        except (OSError, ValueError):  # stderr closed or broken: nowhere left to report
            pass


# Every AppendOnlyFileHandler, so a forked child (a gunicorn worker forked from an arbiter that opened
# the file, or preload_app) reopens each file before it first locks it.
_HANDLERS: "weakref.WeakSet[AppendOnlyFileHandler]" = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for handler in list(_HANDLERS):
        handler._inherited = True


os.register_at_fork(after_in_child=_after_fork_in_child)
