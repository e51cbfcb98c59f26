class Countdown:
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return self

    def __next__(self):
        if self.n <= 0:
            raise StopIteration
        self.n -= 1
        return self.n + 1


class Bag:
    def __init__(self, *items):
        self.items = list(items)

    def __iter__(self):
        return iter(self.items)


class Pairs:
    def __iter__(self):
        yield 1, "a"
        yield 2, "b"


for x in Countdown(3):
    print("for", x)
print(list(Countdown(4)), tuple(Countdown(2)))
a, b, c = Countdown(3)
print("unpacked", a, b, c)
first, *rest = Bag(1, 2, 3)
print("starred", first, rest)
print([x * 10 for x in Bag(4, 5)], sorted({x for x in Countdown(2)}))
print(sum(Bag(1, 2, 3)), sorted(Countdown(3)), max(Bag(7, 9, 8)))
print(3 in Bag(1, 2, 3), 5 in Countdown(3), 2 in Countdown(3))
print(dict(Pairs()), [k for k, v in Pairs()])
print("-".join(Bag("x", "y")), [*Bag(1, 2), *Countdown(2)])
for i, v in enumerate(Countdown(2)):
    print("enumerate", i, v)
it = iter(Countdown(2))
print(type(it).__name__, next(it), next(it), next(it, "end"))
l = []
l.extend(Bag(1, 2))
print(l, list(zip(Bag(1, 2), Countdown(2))))


class Stops:
    def __init__(self):
        self.k = 0

    def __iter__(self):
        return self

    def __next__(self):
        self.k += 1
        if self.k > 2:
            raise StopIteration("over")
        return self.k


for x in Stops():
    for y in Countdown(2):
        print("nested", x, y)


class NotIter:
    pass


class BadIter:
    def __iter__(self):
        return 5


class NoNext:
    def __iter__(self):
        return NotIter()


class Raises:
    def __iter__(self):
        return self

    def __next__(self):
        raise ValueError("bad item")


for make in (NotIter, BadIter, NoNext, Raises):
    for how in ("for", "list", "unpack", "iter"):
        try:
            if how == "for":
                for x in make():
                    pass
            elif how == "list":
                list(make())
            elif how == "unpack":
                p, q = make()
            else:
                iter(make())
            print(make.__name__, how, "ok")
        except Exception as e:
            print(make.__name__, how, type(e).__name__, e)
try:
    next(NotIter())
except TypeError as e:
    print("next", e)
