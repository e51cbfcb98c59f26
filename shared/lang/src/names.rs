//! The names a script can use without assigning them: builtin functions, modules,
//! constants, and the exception classes an `except` clause can name.
//!
//! The parser uses this to report unknown names; the interpreter dispatches on
//! the same enums, so the two cannot disagree.

use socklab_wire::consts;
use socklab_wire::op::Op;

macro_rules! named_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($variant:ident $(= $text:literal)?),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name { $($variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub fn name(self) -> &'static str {
                match self { $($name::$variant => variant_name!($variant $($text)?)),* }
            }

            pub fn from_name(name: &str) -> Option<$name> {
                match name { $(variant_name!($variant $($text)?) => Some($name::$variant),)* _ => None }
            }
        }
    };
}

/// A variant's script name: the one given, or the variant's own.
macro_rules! variant_name {
    ($variant:ident) => {
        stringify!($variant)
    };
    ($variant:ident $text:literal) => {
        $text
    };
}

named_enum! {
    /// A builtin function.
    pub enum Builtin {
        Socket = "socket",
        Print = "print",
        Input = "input",
        Sleep = "sleep",
        Gethostbyname = "gethostbyname",
        Time = "time",
        Select = "select",
        LabPeer = "lab_peer",
        LabLink = "lab_link",
        IcmpEchoRequest = "icmp_echo_request",
        IcmpParse = "icmp_parse",
        Checksum = "checksum",
        Len = "len",
        Range = "range",
        Str = "str",
        Int = "int",
        Float = "float",
        Bool = "bool",
        Bytes = "bytes",
        List = "list",
        Tuple = "tuple",
        Hex = "hex",
        Abs = "abs",
        Min = "min",
        Max = "max",
        Sum = "sum",
        Repr = "repr",
        Ord = "ord",
        Chr = "chr",
        Format = "format",
        Dict = "dict",
        Set = "set",
        Sorted = "sorted",
        Enumerate = "enumerate",
        Next = "next",
        Iter = "iter",
        Memoryview = "memoryview",
        Zip = "zip",
        Reversed = "reversed",
        Any = "any",
        All = "all",
        Map = "map",
        Filter = "filter",
        Round = "round",
        Divmod = "divmod",
        Pow = "pow",
        Oct = "oct",
        Bin = "bin",
        Isinstance = "isinstance",
        Type = "type",
        Getattr = "getattr",
        Hasattr = "hasattr",
        Setattr = "setattr",
        Delattr = "delattr",
        Hash = "hash",
        Id = "id",
        Callable = "callable",
        Slice = "slice",
        Frozenset = "frozenset",
        Vars = "vars",
        Bytearray = "bytearray",
        Socketpair = "socketpair",
        CreateConnection = "create_connection",
        CreateServer = "create_server",
        HasDualstackIpv6 = "has_dualstack_ipv6",
        Getaddrinfo = "getaddrinfo",
        AddressFamily = "AddressFamily",
        SocketKind = "SocketKind",
    }
}

named_enum! {
    /// A module a script may `import` (or name) for Python compatibility: its
    /// attributes are the builtins and constants of the same name.
    pub enum Module {
        Socket = "socket",
        Select = "select",
        Time = "time",
        Errno = "errno",
        Struct = "struct",
        Sys = "sys",
        Os = "os",
        Binascii = "binascii",
        Random = "random",
        Math = "math",
        Json = "json",
        Thread = "_thread",
        Threading = "threading",
        Queue = "queue",
        Traceback = "traceback",
        Hashlib = "hashlib",
        OsPath = "os.path",
        Selectors = "selectors",
        Socketserver = "socketserver",
        Argparse = "argparse",
        Base64 = "base64",
        Codecs = "codecs",
        Types = "types",
        Datetime = "datetime",
    }
}

impl Module {
    /// A library module written in Python (`shared/lang/pylib/`): its source,
    /// run on first use in a namespace of its own.
    pub fn source(self) -> Option<&'static str> {
        match self {
            Module::Threading => Some(include_str!("../pylib/threading.py")),
            Module::Queue => Some(include_str!("../pylib/queue.py")),
            Module::Selectors => Some(include_str!("../pylib/selectors.py")),
            Module::Socketserver => Some(include_str!("../pylib/socketserver.py")),
            Module::Argparse => Some(include_str!("../pylib/argparse.py")),
            Module::Types => Some(include_str!("../pylib/types.py")),
            Module::Datetime => Some(include_str!("../pylib/datetime.py")),
            _ => None,
        }
    }
}

named_enum! {
    /// A function of a library module, named `module.function`; see
    /// `interp/library.rs`.
    pub enum LibFn {
        StructPack = "struct.pack",
        StructUnpack = "struct.unpack",
        StructUnpackFrom = "struct.unpack_from",
        StructCalcsize = "struct.calcsize",
        StructStruct = "struct.Struct",
        SysExit = "sys.exit",
        OsStrerror = "os.strerror",
        OsGetpid = "os.getpid",
        BinasciiHexlify = "binascii.hexlify",
        BinasciiUnhexlify = "binascii.unhexlify",
        BinasciiCrc32 = "binascii.crc32",
        RandomSeed = "random.seed",
        RandomRandom = "random.random",
        RandomRandint = "random.randint",
        RandomRandrange = "random.randrange",
        RandomChoice = "random.choice",
        RandomShuffle = "random.shuffle",
        RandomUniform = "random.uniform",
        RandomGetrandbits = "random.getrandbits",
        MathSqrt = "math.sqrt",
        MathFloor = "math.floor",
        MathCeil = "math.ceil",
        MathLog = "math.log",
        MathLog2 = "math.log2",
        MathLog10 = "math.log10",
        MathExp = "math.exp",
        MathSin = "math.sin",
        MathCos = "math.cos",
        MathTan = "math.tan",
        MathAtan2 = "math.atan2",
        MathFabs = "math.fabs",
        MathIsclose = "math.isclose",
        MathIsnan = "math.isnan",
        MathIsinf = "math.isinf",
        MathGcd = "math.gcd",
        MathTrunc = "math.trunc",
        MathHypot = "math.hypot",
        TimeMonotonic = "time.monotonic",
        TimePerfCounter = "time.perf_counter",
        TimeGmtime = "time.gmtime",
        TimeLocaltime = "time.localtime",
        TimeMktime = "time.mktime",
        TimeCtime = "time.ctime",
        TimeAsctime = "time.asctime",
        TimeStrftime = "time.strftime",
        JsonDumps = "json.dumps",
        JsonLoads = "json.loads",
        ThreadStartNewThread = "_thread.start_new_thread",
        ThreadAllocateLock = "_thread.allocate_lock",
        ThreadGetIdent = "_thread.get_ident",
        ThreadJoin = "_thread.join",
        ThreadIsAlive = "_thread.is_alive",
        ThreadLaneName = "_thread.lane_name",
        OsFork = "os.fork",
        OsExit = "os._exit",
        OsWaitpid = "os.waitpid",
        OsGetppid = "os.getppid",
        Base64B64encode = "base64.b64encode",
        Base64B64decode = "base64.b64decode",
        Base64StandardB64encode = "base64.standard_b64encode",
        Base64StandardB64decode = "base64.standard_b64decode",
        Base64UrlsafeB64encode = "base64.urlsafe_b64encode",
        Base64UrlsafeB64decode = "base64.urlsafe_b64decode",
        Base64B16encode = "base64.b16encode",
        Base64B16decode = "base64.b16decode",
        CodecsEncode = "codecs.encode",
        CodecsDecode = "codecs.decode",
        SocketHtons = "socket.htons",
        SocketNtohs = "socket.ntohs",
        SocketHtonl = "socket.htonl",
        SocketNtohl = "socket.ntohl",
        SocketInetAton = "socket.inet_aton",
        SocketInetNtoa = "socket.inet_ntoa",
        SocketInetPton = "socket.inet_pton",
        SocketInetNtop = "socket.inet_ntop",
        SocketGethostname = "socket.gethostname",
        SocketGetfqdn = "socket.getfqdn",
        SocketGetservbyname = "socket.getservbyname",
        SocketGetservbyport = "socket.getservbyport",
        SocketGetprotobyname = "socket.getprotobyname",
        SocketGetnameinfo = "socket.getnameinfo",
        SocketGetdefaulttimeout = "socket.getdefaulttimeout",
        SocketSetdefaulttimeout = "socket.setdefaulttimeout",
        OsWifexited = "os.WIFEXITED",
        OsWexitstatus = "os.WEXITSTATUS",
        OsWifsignaled = "os.WIFSIGNALED",
        OsWtermsig = "os.WTERMSIG",
        SysExcInfo = "sys.exc_info",
        TracebackPrintExc = "traceback.print_exc",
        TracebackFormatExc = "traceback.format_exc",
        TracebackPrintException = "traceback.print_exception",
        TracebackFormatException = "traceback.format_exception",
        TracebackFormatExceptionOnly = "traceback.format_exception_only",
        HashlibMd5 = "hashlib.md5",
        HashlibSha1 = "hashlib.sha1",
        HashlibSha224 = "hashlib.sha224",
        HashlibSha256 = "hashlib.sha256",
        HashlibSha384 = "hashlib.sha384",
        HashlibSha512 = "hashlib.sha512",
        HashlibNew = "hashlib.new",
        SelectPoll = "select.poll",
        SelectEpoll = "select.epoll",
        OsUnlink = "os.unlink",
        OsRemove = "os.remove",
        OsPathExists = "os.path.exists",
        OsPathJoin = "os.path.join",
        OsPathBasename = "os.path.basename",
        OsPathDirname = "os.path.dirname",
    }
}

impl LibFn {
    /// The function's own name, without its module.
    pub fn short_name(self) -> &'static str {
        let name = self.name();
        name.rsplit('.').next().unwrap_or(name)
    }

    /// `module.name`, if the module has a function of that name.
    pub fn lookup(module: Module, name: &str) -> Option<LibFn> {
        LibFn::ALL
            .iter()
            .copied()
            .find(|f| f.name().strip_prefix(module.name()).and_then(|r| r.strip_prefix('.')) == Some(name))
    }
}

named_enum! {
    /// An exception class, as raised and as named in `except`.
    pub enum ExcClass {
        BaseException,
        Exception,
        OsError = "OSError",
        BlockingIoError = "BlockingIOError",
        TimeoutError,
        InterruptedError,
        FileNotFoundError,
        FileExistsError,
        PermissionError,
        ConnectionError,
        ConnectionRefusedError,
        ConnectionResetError,
        ConnectionAbortedError,
        BrokenPipeError,
        ChildProcessError,
        ProcessLookupError,
        ArithmeticError,
        ZeroDivisionError,
        OverflowError,
        LookupError,
        IndexError,
        KeyError,
        ValueError,
        UnicodeDecodeError,
        TypeError,
        NameError,
        AttributeError,
        AssertionError,
        MemoryError,
        RuntimeError,
        RecursionError,
        NotImplementedError,
        UnboundLocalError,
        SystemExit,
        StopIteration,
        GeneratorExit,
        BufferError,
        EofError = "EOFError",
        KeyboardInterrupt,
        StructError = "struct.error",
        JsonDecodeError = "json.JSONDecodeError",
        BinasciiError = "binascii.Error",
    }
}

impl Builtin {
    /// The socket op this builtin makes, if it makes one.
    pub fn op(self) -> Option<Op> {
        Op::from_name(self.name()).filter(|op| !op.is_method())
    }
}

impl ExcClass {
    /// Resolves a name as written in `except`, including Python's aliases
    /// (`IOError`, `socket.error`, `socket.timeout`, `socket.gaierror`).
    pub fn resolve(name: &str) -> Option<ExcClass> {
        let bare = name.strip_prefix("socket.").unwrap_or(name);
        match bare {
            "IOError" | "EnvironmentError" | "error" | "gaierror" | "herror" => {
                Some(ExcClass::OsError)
            }
            "timeout" => Some(ExcClass::TimeoutError),
            _ if bare != name && !matches!(bare, "timeout" | "error") => None,
            _ => ExcClass::from_name(bare),
        }
    }

    pub fn parent(self) -> Option<ExcClass> {
        use ExcClass::*;
        match self {
            BaseException => None,
            Exception => Some(BaseException),
            OsError | ArithmeticError | LookupError | ValueError | TypeError | NameError
            | AttributeError | AssertionError | MemoryError | RuntimeError => Some(Exception),
            RecursionError | NotImplementedError => Some(RuntimeError),
            UnboundLocalError => Some(NameError),
            BlockingIoError | TimeoutError | InterruptedError | FileNotFoundError
            | FileExistsError | PermissionError | ConnectionError | ChildProcessError
            | ProcessLookupError => Some(OsError),
            ConnectionRefusedError
            | ConnectionResetError
            | ConnectionAbortedError
            | BrokenPipeError => Some(ConnectionError),
            ZeroDivisionError | OverflowError => Some(ArithmeticError),
            IndexError | KeyError => Some(LookupError),
            UnicodeDecodeError | JsonDecodeError | BinasciiError => Some(ValueError),
            SystemExit | GeneratorExit | KeyboardInterrupt => Some(BaseException),
            EofError => Some(Exception),
            StopIteration => Some(Exception),
            StructError | BufferError => Some(Exception),
        }
    }

    /// Whether an exception of class `self` is caught by `except handler`.
    pub fn is_subclass_of(self, handler: ExcClass) -> bool {
        let mut class = Some(self);
        while let Some(c) = class {
            if c == handler {
                return true;
            }
            class = c.parent();
        }
        false
    }

    /// The OSError subclass Python raises for an errno.
    pub fn for_errno(errno: i32) -> ExcClass {
        match errno {
            11 | 114 | 115 => ExcClass::BlockingIoError,
            110 => ExcClass::TimeoutError,
            4 => ExcClass::InterruptedError,
            2 => ExcClass::FileNotFoundError,
            17 => ExcClass::FileExistsError,
            1 | 13 => ExcClass::PermissionError,
            111 => ExcClass::ConnectionRefusedError,
            104 => ExcClass::ConnectionResetError,
            103 => ExcClass::ConnectionAbortedError,
            32 | 108 => ExcClass::BrokenPipeError,
            10 => ExcClass::ChildProcessError,
            3 => ExcClass::ProcessLookupError,
            _ => ExcClass::OsError,
        }
    }
}

/// What a global (non-variable) name refers to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Global {
    Builtin(Builtin),
    Module(Module),
    Const(i64),
    /// A function of the socket module: like its other names, defined without import.
    LibFn(LibFn),
}

/// Resolves a name that is not a lane variable.
pub fn global(name: &str) -> Option<Global> {
    if let Some(b) = Builtin::from_name(name) {
        return Some(Global::Builtin(b));
    }
    if let Some(m) = Module::from_name(name) {
        return Some(Global::Module(m));
    }
    if let Some(f) = LibFn::lookup(Module::Socket, name) {
        return Some(Global::LibFn(f));
    }
    consts::value(name).map(Global::Const)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exception_hierarchy() {
        assert!(ExcClass::ConnectionRefusedError.is_subclass_of(ExcClass::OsError));
        assert!(ExcClass::TimeoutError.is_subclass_of(ExcClass::Exception));
        assert!(!ExcClass::TypeError.is_subclass_of(ExcClass::OsError));
        assert_eq!(
            ExcClass::resolve("socket.timeout"),
            Some(ExcClass::TimeoutError)
        );
        assert_eq!(ExcClass::resolve("socket.error"), Some(ExcClass::OsError));
        assert_eq!(ExcClass::resolve("socket.TypeError"), None);
        for &c in ExcClass::ALL {
            assert!(c.is_subclass_of(ExcClass::BaseException));
        }
    }
}
