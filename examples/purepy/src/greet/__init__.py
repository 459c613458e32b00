"""A pure-Python example package: says hello and which Python it runs on."""
import platform
import sys

__version__ = "1.0"


def greeting(name: str) -> str:
    impl = platform.python_implementation()
    ver = ".".join(str(p) for p in sys.version_info[:2])
    return f"hello, {name}, from {impl} {ver}"


def main() -> int:
    who = sys.argv[1] if len(sys.argv) > 1 else "world"
    print(greeting(who))
    return 0
