class Box:
    def __init__(self, name):
        self.name = name

    def __enter__(self):
        print("enter", self.name)
        return self.name.upper()

    def __exit__(self, kind, value, tb):
        print("exit", self.name, kind.__name__ if kind else None)
        return False


with Box("a") as a, Box("b") as b, Box("c"):
    print("body", a, b)
with (Box("x") as x, Box("y") as y):
    print("body", x, y)
with (Box("p")) as p:
    print("body", p)
with (
    Box("m"),
    Box("n") as n,
):
    print("body", n)
try:
    with Box("e1"), Box("e2"):
        raise ValueError("boom")
except ValueError as e:
    print("caught", e)
