"""Run a command and report its own resource usage: `python -I -S launcher.py FD CMD...`.

Linux starts a child's `ru_maxrss` at its parent's high-water mark (the memory copied
at fork is charged before exec), so a sync started straight from the benchmark would
report at least the benchmark's own peak (≈ 100 MB once it has generated the 10M file).
This launcher is a bare interpreter (≈ 10 MB): the command it forks reports its own
peak. It writes "maxrss_kb utime stime" to file descriptor FD and exits with the
command's exit code. Standard library only, no site packages, so it stays small.
"""

import os
import sys


def main() -> int:
    report_fd = int(sys.argv[1])
    command = sys.argv[2:]
    os.set_inheritable(report_fd, False)  # the command must not hold the report open
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    os.write(report_fd, f"{usage.ru_maxrss} {usage.ru_utime} {usage.ru_stime}".encode())
    os.close(report_fd)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
