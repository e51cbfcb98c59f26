import datetime
import threading
import socketserver
from datetime import timedelta

class Handler(socketserver.BaseRequestHandler):
    pass

print(datetime.datetime, timedelta, threading.Thread)
print(Handler, socketserver.TCPServer)
print(type(timedelta(seconds=1)), Handler.__module__)
