import base64, binascii, codecs, types

print(base64.b64encode(b"hello socket"), base64.b64encode(b"\xfb\xff"), base64.urlsafe_b64encode(b"\xfb\xff"))
print(base64.b64decode(b"aGVsbG8gc29ja2V0"), base64.b64decode("aGk="), base64.urlsafe_b64decode("-_8="))
print(base64.b64decode(b"aGk=\n"), base64.b64decode(b"a G k ="))
for bad in (b"aGk", b"a"):
    try:
        base64.b64decode(bad)
    except binascii.Error as e:
        print("binascii.Error:", e)
try:
    base64.b64decode(b"aGk*", validate=True)
except binascii.Error as e:
    print("binascii.Error:", e)
print(base64.b16encode(b"\x01\xab"), base64.b16decode(b"01AB"), base64.b16decode(b"01ab", casefold=True))
print(base64.standard_b64encode(b"x"), base64.b64encode(b"\xfb\xff", altchars=b"-_"))
print(codecs.encode(b"abc", "hex"), codecs.decode(b"616263", "hex"), codecs.decode("616263", "hex"))
print(codecs.encode(b"hi", "base64"), codecs.decode(b"aGk=\n", "base64"))
print(codecs.encode("h\u00e9", "utf-8"), codecs.decode(b"h\xc3\xa9", "utf-8"))
try:
    codecs.encode(b"x", "rot-99")
except LookupError as e:
    print("LookupError:", e)
ns = types.SimpleNamespace(host="127.0.0.1", port=5000)
ns.backlog = 5
print(ns, ns.port, ns == types.SimpleNamespace(host="127.0.0.1", port=5000, backlog=5))
