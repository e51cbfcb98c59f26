def inner():
    total = 0
    while True:
        got = yield total
        if got is None:
            return total
        total += got


def outer():
    result = yield from inner()
    print("inner returned", result)
    yield "after"


g = outer()
print(next(g))
print(g.send(5))
print(g.send(7))
print(next(g))

def listy():
    r = yield from [1, 2]
    print("list gives", r)
    yield 3

print(list(listy()))
g = listy()
next(g)
try:
    g.send(9)
except AttributeError as e:
    print("AttributeError:", e)


def catcher():
    while True:
        try:
            yield "ready"
        except ValueError as e:
            print("caught", e)
            yield "recovered"


c = catcher()
print(next(c))
print(c.throw(ValueError("boom")))
print(next(c))
print(c.throw(ValueError, "second"))
try:
    c.throw(KeyError("k"))
except KeyError as e:
    print("propagated", repr(e))
try:
    next(c)
except StopIteration:
    print("finished")
try:
    c.throw(RuntimeError("late"))
except RuntimeError as e:
    print("after the end:", e)

fresh = catcher()
try:
    fresh.throw(TypeError("early"))
except TypeError as e:
    print("unstarted:", e)

def ender():
    try:
        yield 1
    except ZeroDivisionError:
        return "done"

e = ender()
next(e)
try:
    e.throw(ZeroDivisionError)
except StopIteration as s:
    print("stop", s.value if hasattr(s, "value") else s)
