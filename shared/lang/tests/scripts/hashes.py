import hashlib

for name in ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"]:
    h = hashlib.new(name, b"hello")
    print(name, h.name, h.digest_size, h.block_size, h.hexdigest())

h = hashlib.sha256()
h.update(b"hel")
c = h.copy()
h.update(bytearray(b"lo"))
c.update(memoryview(b"p!"))
print(h.hexdigest(), c.hexdigest())
print(h.digest()[:4], len(h.digest()))
print(hashlib.sha256(b"hello").hexdigest() == h.hexdigest())
print(hashlib.md5(string=b"x").hexdigest(), hashlib.sha1().hexdigest())
print(hashlib.new("SHA512").name, repr(hashlib.sha1()).split(" ")[0])
payload = bytes(i % 251 for i in range(100000))
print(hashlib.sha256(payload).hexdigest()[:16])
for bad in ["text", 5]:
    try:
        hashlib.sha256(bad)
    except TypeError as e:
        print("TypeError:", e)
try:
    hashlib.new("whirlpool")
except ValueError as e:
    print("ValueError:", e)
