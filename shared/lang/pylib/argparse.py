"""Command-line parsing for socklab scripts: the part of CPython's argparse
socket programs use (ArgumentParser, add_argument with its usual keywords,
parse_args, Namespace), with CPython's usage, help and error texts. A lane's
command line is sys.argv[1:], which is empty."""

import os
import sys

SUPPRESS = "==SUPPRESS=="
OPTIONAL = "?"
ZERO_OR_MORE = "*"
ONE_OR_MORE = "+"
REMAINDER = "..."


# CPython wraps help at $COLUMNS - 2; a lane has no terminal: 80 columns.
_WIDTH = 78


def _usage_lines(parts, indent, text_width, prefix=None):
    lines = []
    line = []
    if prefix is not None:
        line_len = len(prefix) - 1
    else:
        line_len = len(indent) - 1
    for part in parts:
        if line_len + 1 + len(part) > text_width and line:
            lines.append(indent + " ".join(line))
            line = []
            line_len = len(indent) - 1
        line.append(part)
        line_len += len(part) + 1
    if line:
        lines.append(indent + " ".join(line))
    if prefix is not None:
        lines[0] = lines[0][len(indent):]
    return lines


def _wrap(text, width):
    """Whitespace collapsed, words filled into lines of at most width."""
    lines = []
    line = ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        elif line:
            line += " " + word
        else:
            line = word
    lines.append(line)
    return lines


class ArgumentError(Exception):
    def __init__(self, argument, message):
        self.argument_name = _argument_name(argument)
        self.message = message
        if self.argument_name is None:
            text = message
        else:
            text = "argument %s: %s" % (self.argument_name, message)
        super().__init__(text)

    def __str__(self):
        if self.argument_name is None:
            return self.message
        return "argument %s: %s" % (self.argument_name, self.message)


class ArgumentTypeError(Exception):
    pass


def _argument_name(argument):
    if argument is None:
        return None
    if argument.option_strings:
        return "/".join(argument.option_strings)
    if argument.metavar not in (None, SUPPRESS):
        return argument.metavar
    if argument.dest not in (None, SUPPRESS):
        return argument.dest
    return None


class Namespace:
    def __init__(self, **kwargs):
        for name in kwargs:
            setattr(self, name, kwargs[name])

    def __eq__(self, other):
        if not isinstance(other, Namespace):
            return False
        return vars(self) == vars(other)

    def __contains__(self, key):
        return key in vars(self)

    def __repr__(self):
        parts = []
        for name, value in vars(self).items():
            if _is_identifier(name):
                parts.append("%s=%r" % (name, value))
            else:
                parts.append("**{%r: %r}" % (name, value))
        return "Namespace(%s)" % ", ".join(parts)


def _is_identifier(name):
    if not name or name[0].isdigit():
        return False
    for c in name:
        if not (c == "_" or c.isdigit() or "a" <= c.lower() <= "z" or ord(c) > 127):
            return False
    return True


class Action:
    def __init__(self, option_strings, dest, nargs=None, const=None, default=None, type=None,
                 choices=None, required=False, help=None, metavar=None, kind="store"):
        self.option_strings = option_strings
        self.dest = dest
        self.nargs = nargs
        self.const = const
        self.default = default
        self.type = type
        self.choices = choices
        self.required = required
        self.help = help
        self.metavar = metavar
        self.kind = kind

    def __repr__(self):
        names = ["option_strings", "dest", "nargs", "const", "default", "type", "choices",
                 "required", "help", "metavar"]
        parts = []
        for name in names:
            value = getattr(self, name)
            if name == "type" and value is not None and hasattr(value, "__name__"):
                parts.append("type=%s" % value.__name__)
                continue
            parts.append("%s=%r" % (name, value))
        kinds = {"store": "_StoreAction", "store_const": "_StoreConstAction",
                 "store_true": "_StoreTrueAction", "store_false": "_StoreFalseAction",
                 "append": "_AppendAction", "append_const": "_AppendConstAction",
                 "count": "_CountAction", "help": "_HelpAction", "version": "_VersionAction"}
        return "%s(%s)" % (kinds.get(self.kind, "Action"), ", ".join(parts))


_TAKES_VALUES = ("store", "append")


class _Group:
    def __init__(self, parser, title=None, description=None, required=False):
        self._parser = parser
        self.title = title
        self.description = description
        self.required = required

    def add_argument(self, *args, **kwargs):
        return self._parser.add_argument(*args, **kwargs)

    def add_argument_group(self, *args, **kwargs):
        return _Group(self._parser, *args, **kwargs)

    def add_mutually_exclusive_group(self, required=False):
        return _Group(self._parser, required=required)


class ArgumentParser:
    def __init__(self, prog=None, usage=None, description=None, epilog=None, parents=(),
                 formatter_class=None, prefix_chars="-", fromfile_prefix_chars=None,
                 argument_default=None, conflict_handler="error", add_help=True,
                 allow_abbrev=True, exit_on_error=True):
        if prog is None:
            prog = os.path.basename(sys.argv[0])
        self.prog = prog
        self.usage = usage
        self.description = description
        self.epilog = epilog
        self.prefix_chars = prefix_chars
        self.argument_default = argument_default
        self.add_help = add_help
        self.allow_abbrev = allow_abbrev
        self.exit_on_error = exit_on_error
        self._actions = []
        self._defaults = {}
        if add_help:
            self.add_argument("-h", "--help", action="help", default=SUPPRESS,
                              help="show this help message and exit")
        for parent in parents:
            for action in parent._actions:
                if action.kind != "help":
                    self._actions.append(action)
            self._defaults.update(parent._defaults)

    def __repr__(self):
        return ("ArgumentParser(prog=%r, usage=%r, description=%r, formatter_class=<class "
                "'argparse.HelpFormatter'>, conflict_handler='error', add_help=%r)"
                % (self.prog, self.usage, self.description, self.add_help))

    # -- adding arguments ------------------------------------------------

    def add_argument(self, *args, action="store", nargs=None, const=None, default=None,
                     type=None, choices=None, required=None, help=None, metavar=None,
                     dest=None, version=None):
        if not args or (len(args) == 1 and args[0][:1] not in self.prefix_chars):
            if args and dest is not None:
                raise ValueError("dest supplied twice for positional argument")
            if not args:
                raise TypeError("add_argument() missing 1 required positional argument: 'dest'")
            option_strings = []
            dest = args[0]
            if required is not None:
                raise TypeError("'required' is an invalid argument for positionals")
            required = nargs not in (OPTIONAL, ZERO_OR_MORE, REMAINDER)
            if nargs == ZERO_OR_MORE and default is None:
                required = True
        else:
            option_strings = []
            long_dest = None
            for option in args:
                if option[:1] not in self.prefix_chars:
                    raise ValueError("invalid option string %r: must start with a character %r"
                                     % (option, self.prefix_chars))
                option_strings.append(option)
                if long_dest is None and len(option) > 1 and option[1] in self.prefix_chars:
                    long_dest = option
            if dest is None:
                chosen = long_dest if long_dest is not None else option_strings[0]
                dest = chosen.lstrip(self.prefix_chars).replace("-", "_")
                if not dest:
                    raise ValueError("dest= is required for options like %r" % option_strings[0])
            required = bool(required)
        for option in option_strings:
            for other in self._actions:
                if option in other.option_strings:
                    raise ArgumentError(None, "argument %s: conflicting option string: %s"
                                        % ("/".join(option_strings), option))
        if default is None:
            if dest in self._defaults:
                default = self._defaults[dest]
            elif self.argument_default is not None:
                default = self.argument_default
        if action not in ("store", "store_const", "store_true", "store_false", "append",
                          "append_const", "count", "help", "version"):
            raise ValueError("unknown action %r" % (action,))
        if action == "store_true":
            const = True
            if default is None:
                default = False
        elif action == "store_false":
            const = False
            if default is None:
                default = True
        elif action == "help" and default is None:
            default = SUPPRESS
        elif action == "version":
            if default is None:
                default = SUPPRESS
            if help is None:
                help = "show program's version number and exit"
        if action in _TAKES_VALUES:
            if nargs == 0:
                raise ValueError("nargs for store actions must be != 0; if you have nothing to "
                                 "store, actions such as store true or store const may be more appropriate")
        elif nargs is not None:
            raise TypeError("__init__() got an unexpected keyword argument 'nargs'")
        else:
            nargs = 0
        if type is not None and isinstance(type, str):
            raise ValueError("%r is not callable" % (type,))
        result = Action(option_strings, dest, nargs, const, default, type, choices,
                        required, help, metavar, action)
        result.version = version
        if not option_strings and action in _TAKES_VALUES and nargs == OPTIONAL and default is None:
            result.default = None
        self._actions.append(result)
        return result

    def add_argument_group(self, title=None, description=None):
        return _Group(self, title, description)

    def add_mutually_exclusive_group(self, required=False):
        return _Group(self, required=required)

    def set_defaults(self, **kwargs):
        self._defaults.update(kwargs)
        for action in self._actions:
            if action.dest in kwargs:
                action.default = kwargs[action.dest]

    def get_default(self, dest):
        for action in self._actions:
            if action.dest == dest and action.default is not None:
                return action.default
        return self._defaults.get(dest, None)

    # -- parsing ------------------------------------------------------------

    def parse_args(self, args=None, namespace=None):
        args, argv = self.parse_known_args(args, namespace)
        if argv:
            self.error("unrecognized arguments: %s" % " ".join(argv))
        return args

    def parse_known_args(self, args=None, namespace=None):
        if args is None:
            args = sys.argv[1:]
        else:
            args = list(args)
        if namespace is None:
            namespace = Namespace()
        for action in self._actions:
            if action.dest is not SUPPRESS and not hasattr(namespace, action.dest):
                if action.default is not SUPPRESS:
                    setattr(namespace, action.dest, action.default)
        for dest in self._defaults:
            if not hasattr(namespace, dest):
                setattr(namespace, dest, self._defaults[dest])
        try:
            return self._parse_known_args(args, namespace)
        except ArgumentError as err:
            if not self.exit_on_error:
                raise
            self.error(str(err))

    def _is_option(self, arg):
        if not arg or arg[0] not in self.prefix_chars or arg == "-":
            return False
        if arg[1:2].isdigit() or arg[1:2] == ".":
            # A negative number is an argument unless the parser has options that look like one.
            for action in self._actions:
                for option in action.option_strings:
                    if option[1:2].isdigit():
                        return True
            try:
                float(arg)
                return False
            except ValueError:
                return True
        return True

    def _find_option(self, arg):
        """(action, option string, explicit value) for an option argument, or None."""
        if "=" in arg:
            name, _, explicit = arg.partition("=")
        else:
            name, explicit = arg, None
        for action in self._actions:
            if name in action.option_strings:
                return action, name, explicit
        if len(arg) > 2 and arg[1] not in self.prefix_chars:
            # -pVALUE: a short option with its value attached.
            short = arg[:2]
            for action in self._actions:
                if short in action.option_strings:
                    return action, short, arg[2:]
        if self.allow_abbrev and name[:2] == self.prefix_chars[0] * 2:
            matches = []
            for action in self._actions:
                for option in action.option_strings:
                    if option.startswith(name):
                        matches.append((action, option))
            if len(matches) == 1:
                return matches[0][0], matches[0][1], explicit
            if len(matches) > 1:
                options = ", ".join([option for action, option in matches])
                self.error("ambiguous option: %s could match %s" % (name, options))
        return None

    def _parse_known_args(self, args, namespace):
        extras = []
        positionals = []
        seen = []
        i = 0
        after_dashes = False
        while i < len(args):
            arg = args[i]
            if after_dashes or not self._is_option(arg):
                positionals.append(arg)
                i += 1
                continue
            if arg == "--":
                after_dashes = True
                i += 1
                continue
            found = self._find_option(arg)
            if found is None:
                extras.append(arg)
                i += 1
                continue
            action, option, explicit = found
            i += 1
            if explicit is not None:
                if action.nargs == 0:
                    if option[1:2] not in self.prefix_chars and explicit:
                        # -vv: more single-dash flags after the first.
                        self._take(action, [], namespace)
                        seen.append(action)
                        args = args[:i] + ["-" + explicit] + args[i:]
                        continue
                    raise ArgumentError(action, "ignored explicit argument %r" % explicit)
                values = [explicit]
            else:
                values = []
                limit = action.nargs
                while i < len(args) and not self._is_option(args[i]) and args[i] != "--":
                    if limit is None or limit == OPTIONAL:
                        if values:
                            break
                    elif isinstance(limit, int) and len(values) >= limit:
                        break
                    values.append(args[i])
                    i += 1
            self._check_count(action, values)
            self._take(action, values, namespace)
            seen.append(action)
        self._assign_positionals(positionals, namespace, seen, extras)
        missing = []
        for action in self._actions:
            if action.required and action not in seen:
                missing.append(_argument_name(action))
        if missing:
            self.error("the following arguments are required: %s" % ", ".join(missing))
        return namespace, extras

    def _check_count(self, action, values):
        nargs = action.nargs
        n = len(values)
        if nargs is None and n != 1:
            raise ArgumentError(action, "expected one argument")
        if nargs == ONE_OR_MORE and n < 1:
            raise ArgumentError(action, "expected at least one argument")
        if isinstance(nargs, int) and nargs > 0 and n != nargs:
            raise ArgumentError(action, "expected %d argument%s" % (nargs, "" if nargs == 1 else "s"))
        if nargs == OPTIONAL and n > 1:
            raise ArgumentError(action, "expected at most one argument")

    def _min_count(self, action):
        nargs = action.nargs
        if nargs is None or nargs == ONE_OR_MORE:
            return 1
        if isinstance(nargs, int):
            return nargs
        return 0

    def _assign_positionals(self, strings, namespace, seen, extras):
        actions = [a for a in self._actions if not a.option_strings]
        k = 0
        for index, action in enumerate(actions):
            rest_min = 0
            for later in actions[index + 1:]:
                rest_min += self._min_count(later)
            available = len(strings) - k - rest_min
            nargs = action.nargs
            if nargs is None:
                take = 1
            elif nargs == OPTIONAL:
                take = 1 if available >= 1 else 0
            elif nargs == ZERO_OR_MORE or nargs == REMAINDER:
                take = max(available, 0)
            elif nargs == ONE_OR_MORE:
                take = max(available, 1)
            else:
                take = nargs
            if k + take > len(strings):
                # Not enough strings: the rest are reported missing.
                continue
            values = strings[k:k + take]
            k += take
            self._take(action, values, namespace)
            seen.append(action)
        extras.extend(strings[k:])

    def _convert(self, action, text):
        if action.type is None:
            return text
        try:
            return action.type(text)
        except ArgumentTypeError as e:
            raise ArgumentError(action, str(e))
        except (TypeError, ValueError):
            name = getattr(action.type, "__name__", repr(action.type))
            raise ArgumentError(action, "invalid %s value: %r" % (name, text))

    def _check_choice(self, action, value):
        if action.choices is not None and value not in action.choices:
            choices = ", ".join([repr(c) for c in action.choices])
            raise ArgumentError(action, "invalid choice: %r (choose from %s)" % (value, choices))

    def _take(self, action, strings, namespace):
        kind = action.kind
        if kind == "help":
            self.print_help()
            self.exit()
        if kind == "version":
            print(action.version)
            self.exit()
        if kind == "store_const" or kind == "store_true" or kind == "store_false":
            setattr(namespace, action.dest, action.const)
            return
        if kind == "append_const":
            items = list(getattr(namespace, action.dest, None) or [])
            items.append(action.const)
            setattr(namespace, action.dest, items)
            return
        if kind == "count":
            count = getattr(namespace, action.dest, None)
            setattr(namespace, action.dest, 1 if count is None else count + 1)
            return
        nargs = action.nargs
        if nargs is None or nargs == OPTIONAL:
            if strings:
                value = self._convert(action, strings[0])
                self._check_choice(action, value)
            elif action.option_strings:
                value = action.const
            else:
                value = action.default
                if isinstance(value, str):
                    value = self._convert(action, value)
                    self._check_choice(action, value)
        else:
            value = [self._convert(action, s) for s in strings]
            for v in value:
                self._check_choice(action, v)
            if not strings and not action.option_strings and nargs == ZERO_OR_MORE:
                value = action.default if action.default is not None else []
        if kind == "append":
            items = list(getattr(namespace, action.dest, None) or [])
            items.append(value)
            value = items
        setattr(namespace, action.dest, value)

    # -- help and errors ------------------------------------------------

    def _metavar(self, action):
        if action.metavar is not None:
            return action.metavar
        if action.choices is not None:
            return "{%s}" % ",".join([str(c) for c in action.choices])
        if action.option_strings:
            return action.dest.upper()
        return action.dest

    def _format_args(self, action):
        m = self._metavar(action)
        nargs = action.nargs
        if nargs is None:
            return m
        if nargs == OPTIONAL:
            return "[%s]" % m
        if nargs == ZERO_OR_MORE:
            return "[%s ...]" % m
        if nargs == ONE_OR_MORE:
            return "%s [%s ...]" % (m, m)
        if nargs == REMAINDER:
            return "..."
        return " ".join([m] * nargs)

    def format_usage(self):
        prefix = "usage: "
        if self.usage is not None:
            return prefix + self.usage.replace("%(prog)s", self.prog) + "\n"
        opt_parts = []
        pos_parts = []
        for action in self._actions:
            if action.help == SUPPRESS:
                continue
            if action.option_strings:
                text = action.option_strings[0]
                if action.nargs != 0:
                    text += " " + self._format_args(action)
                opt_parts.append(text if action.required else "[%s]" % text)
            else:
                pos_parts.append(self._format_args(action))
        prog = self.prog
        usage = " ".join([p for p in [prog] + opt_parts + pos_parts if p])
        text_width = _WIDTH
        if len(prefix) + len(usage) > text_width:
            # Wrapped as CPython's HelpFormatter wraps it.
            if len(prefix) + len(prog) <= 0.75 * text_width:
                indent = " " * (len(prefix) + len(prog) + 1)
                if opt_parts:
                    lines = _usage_lines([prog] + opt_parts, indent, text_width, prefix)
                    lines.extend(_usage_lines(pos_parts, indent, text_width))
                elif pos_parts:
                    lines = _usage_lines([prog] + pos_parts, indent, text_width, prefix)
                else:
                    lines = [prog]
            else:
                indent = " " * len(prefix)
                parts = opt_parts + pos_parts
                lines = _usage_lines(parts, indent, text_width)
                if len(lines) > 1:
                    lines = []
                    lines.extend(_usage_lines(opt_parts, indent, text_width))
                    lines.extend(_usage_lines(pos_parts, indent, text_width))
                lines = [prog] + lines
            usage = "\n".join(lines)
        return prefix + usage + "\n"

    def _invocation(self, action):
        if not action.option_strings:
            return self._metavar(action)
        if action.nargs == 0:
            return ", ".join(action.option_strings)
        args = self._format_args(action)
        return ", ".join(["%s %s" % (option, args) for option in action.option_strings])

    def _help_text(self, action):
        text = action.help
        if "%(" in text:
            params = {"prog": self.prog, "dest": action.dest, "default": action.default,
                      "type": getattr(action.type, "__name__", action.type),
                      "choices": action.choices, "metavar": action.metavar,
                      "nargs": action.nargs, "const": action.const, "required": action.required}
            text = text % params
        return text

    def format_help(self):
        shown = [a for a in self._actions if a.help != SUPPRESS]
        width = 0
        for action in shown:
            width = max(width, len(self._invocation(action)) + 4)
        position = min(width, 24)
        out = [self.format_usage()]
        if self.description:
            out.append("\n" + "\n".join(_wrap(self.description, _WIDTH)) + "\n")
        sections = [("positional arguments:", [a for a in shown if not a.option_strings]),
                    ("options:", [a for a in shown if a.option_strings])]
        for title, actions in sections:
            if not actions:
                continue
            out.append("\n" + title + "\n")
            for action in actions:
                invocation = self._invocation(action)
                if action.help is None:
                    out.append("  %s\n" % invocation)
                    continue
                lines = _wrap(self._help_text(action), max(_WIDTH - position, 11))
                if len(invocation) + 2 <= position - 2:
                    first = "  " + invocation + " " * (position - 2 - len(invocation)) + lines[0]
                    out.append(first + "\n")
                    lines = lines[1:]
                else:
                    out.append("  %s\n" % invocation)
                for line in lines:
                    out.append(" " * position + line + "\n")
        if self.epilog:
            out.append("\n" + "\n".join(_wrap(self.epilog, _WIDTH)) + "\n")
        return "".join(out)

    def print_usage(self, file=None):
        self._print_message(self.format_usage(), file)

    def print_help(self, file=None):
        self._print_message(self.format_help(), file)

    def _print_message(self, message, file=None):
        if message:
            if file is None:
                file = sys.stdout
            file.write(message)

    def exit(self, status=0, message=None):
        if message:
            self._print_message(message, sys.stderr)
        sys.exit(status)

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(2, "%s: error: %s\n" % (self.prog, message))
