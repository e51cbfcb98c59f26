# `import M as N` and `import M` bind the module, whatever `M` is bound to.
from datetime import datetime
import datetime as dt
print(type(dt).__name__, dt.date(2024, 1, 2), datetime(2024, 1, 2, 3, 4))
from datetime import timedelta
print(timedelta(seconds=90))
import datetime
print(type(datetime).__name__, datetime.datetime(2020, 5, 6).year)
from socket import socket
import socket as sk
print(type(sk).__name__, sk.AF_INET == 2)
def local():
    import struct as st
    from struct import pack
    return st.unpack("!H", pack("!H", 258))
print(local())
