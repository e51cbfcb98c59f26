class Money:
    def __init__(self, cents):
        self.cents = cents

    def __format__(self, spec):
        text = f"{self.cents // 100}.{self.cents % 100:02d}"
        if spec:
            return f"{text:{spec}}"
        return text + " EUR"


m = Money(1234)
print(format(m), format(m, ">10"), f"[{m:<8}]", f"{m}")


class Bad:
    def __format__(self, spec):
        return 42


for how in ("format", "f-string"):
    try:
        print(format(Bad(), "x") if how == "format" else f"{Bad():x}")
    except TypeError as e:
        print(how, e)
