n = 1024
print(n.bit_length(), (0).bit_length(), (-255).bit_length(), (2**100).bit_length())
print((255).bit_count(), (-7).bit_count())
print((1024).to_bytes(2, 'big'), (1024).to_bytes(4, 'little'), (0).to_bytes(0, 'big'))
print((-1).to_bytes(2, 'big', signed=True), (2**70).to_bytes(10, 'big'))
print((5).to_bytes(), True.to_bytes(1, 'big'))
print(int.from_bytes(b'\x00\x10', 'big'), int.from_bytes(b'\x00\x10', 'little'))
print(int.from_bytes(b'\xff\xfe', 'big', signed=True), int.from_bytes([1, 2, 3], 'big'))
print(int.from_bytes(bytearray(b'\x01' * 12), 'big'))
print(int.from_bytes(b'\x01\x00'), int.bit_length(255))
length = len(b'hello')
header = length.to_bytes(4, 'big')
print(header, int.from_bytes(header, byteorder='big'))
for bad in [lambda: (256).to_bytes(1, 'big'), lambda: (-1).to_bytes(1, 'big'),
            lambda: (1).to_bytes(1, 'middle'), lambda: (1).to_bytes(-1, 'big'),
            lambda: int.from_bytes('ab', 'big'), lambda: int.from_bytes([300], 'big'),
            lambda: (128).to_bytes(1, 'big', signed=True)]:
    try:
        bad()
    except Exception as e:
        print(type(e).__name__, e)
try:
    (1).to_bytes(2 ** 62, "big")
except MemoryError:
    print("MemoryError for a length past memory")
