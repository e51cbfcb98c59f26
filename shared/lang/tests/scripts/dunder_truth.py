class Empty:
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n


class Flag:
    def __init__(self, on):
        self.on = on

    def __bool__(self):
        return self.on


class Both:
    def __bool__(self):
        print("bool asked")
        return True

    def __len__(self):
        return 0


class Plain:
    pass


for x in (Empty(0), Empty(3), Flag(False), Flag(True), Both(), Plain()):
    print(type(x).__name__, bool(x), not x, "yes" if x else "no", len(x) if hasattr(x, "__len__") else "-")
    if x:
        print("  if true")
    while x:
        print("  while once")
        break
    print("  and/or", (x and 1) is x, (x or 2) is x)
print([x.n for x in (Empty(0), Empty(2)) if x])
print(len(Empty(5)), not Empty(0), not Flag(True))
print(any([Flag(False), Empty(0)]), any((Flag(False), Empty(2))), all([Flag(True), Empty(1)]), all([Plain(), Empty(0)]), any(Flag(x) for x in (False, True)))
print(1 if Flag(True) and Empty(2) else 0)


class Box:
    def __init__(self, *items):
        self.items = items

    def __contains__(self, x):
        return x in self.items

    def __len__(self):
        return len(self.items)


print(2 in Box(1, 2), 3 in Box(1, 2), 3 not in Box(1, 2), len(Box(1, 2, 3)))


class Truthy:
    def __contains__(self, x):
        return "nonempty"


print(1 in Truthy(), 1 not in Truthy())


class BadBool:
    def __bool__(self):
        return 1


class BadLen:
    def __len__(self):
        return -1


class StrLen:
    def __len__(self):
        return "3"


class BigLen:
    def __len__(self):
        return 2 ** 70


for make in (BadBool, BadLen, StrLen, BigLen, Plain):
    for how in ("bool", "if", "len", "not"):
        try:
            if how == "bool":
                r = bool(make())
            elif how == "if":
                r = 1 if make() else 0
            elif how == "len":
                r = len(make())
            else:
                r = not make()
            print(make.__name__, how, r)
        except Exception as e:
            print(make.__name__, how, type(e).__name__, e)
