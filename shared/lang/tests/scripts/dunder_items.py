class Grid:
    def __init__(self):
        self.cells = {}

    def __getitem__(self, key):
        print("get", key)
        if key not in self.cells:
            raise KeyError(key)
        return self.cells[key]

    def __setitem__(self, key, value):
        print("set", key, value)
        self.cells[key] = value

    def __delitem__(self, key):
        print("del", key)
        del self.cells[key]


g = Grid()
g[(1, 2)] = "a"
g["k"] = 5
print(g[(1, 2)], g["k"])
g["k"] += 1
print(g["k"])
del g[(1, 2)]
try:
    g[(1, 2)]
except KeyError as e:
    print("KeyError", e)
print(sorted(g.cells.items()))


class Squares:
    def __getitem__(self, i):
        return i * i


s = Squares()
print(s[3], s[-2], [s[i] for i in range(4)])


class Plain:
    pass


p = Plain()
for how in ("get", "set", "del"):
    try:
        if how == "get":
            p[0]
        elif how == "set":
            p[0] = 1
        else:
            del p[0]
    except TypeError as e:
        print(how, e)
ro = Squares()
try:
    ro[1] = 2
except TypeError as e:
    print("read-only", e)
try:
    del ro[1]
except TypeError as e:
    print("read-only", e)


class Letters:
    def __init__(self, text):
        self.text = text

    def __getitem__(self, i):
        print("getitem", i)
        return self.text[i]


for ch in Letters("ab"):
    print("for", ch)
print(list(Letters("xyz")), "q" in Letters("xy"), [c.upper() for c in Letters("hi")])
a, b = Letters("pq")
print(a, b)


class Stops:
    def __getitem__(self, i):
        if i == 2:
            raise StopIteration
        return i


print(list(Stops()))


class Fails:
    def __getitem__(self, i):
        raise KeyError(i)


try:
    for x in Fails():
        pass
except KeyError as e:
    print("KeyError", e)
