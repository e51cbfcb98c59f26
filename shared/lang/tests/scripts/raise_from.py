class AppError(Exception):
    pass


def parse(text):
    try:
        return int(text)
    except ValueError as e:
        raise AppError("bad number %r" % text) from e


try:
    parse("x")
except AppError as e:
    print(e, "| cause:", repr(e.__cause__), "| suppress:", e.__suppress_context__)
    print("context is cause:", type(e.__context__).__name__)

try:
    try:
        {}["k"]
    except KeyError:
        raise RuntimeError("lookup failed") from None
except RuntimeError as e:
    print(e, e.__cause__, e.__suppress_context__, type(e.__context__).__name__)

try:
    try:
        1 / 0
    except ZeroDivisionError:
        raise ValueError("no chain given")
except ValueError as e:
    print(e.__cause__, e.__suppress_context__, type(e.__context__).__name__)

try:
    raise TypeError("plain")
except TypeError as e:
    print(e.__cause__, e.__context__, e.__suppress_context__)

try:
    raise AppError("from class") from OSError
except AppError as e:
    print(type(e.__cause__).__name__)

try:
    raise ValueError("x") from 5
except TypeError as e:
    print("TypeError:", e)
fresh = AppError("never raised")
print(fresh.__cause__, fresh.__context__, fresh.__suppress_context__)
