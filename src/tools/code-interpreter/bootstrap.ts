// The Python that wraps the model's code inside the sandbox (run with `python3 -I -c BOOTSTRAP`). It reads
// the code from stdin, runs it in one `__main__` namespace with the working folder /mnt/data, prints the
// value of a final expression like a notebook cell, sends stderr to stdout (the call's `logs` keep the
// order the user would see), prints a traceback without the bootstrap's own frame, and saves the
// matplotlib figures left open as PNGs for the `image` outputs.
export const FIGURES_DIR = '/var/respd-figures';

export const BOOTSTRAP = `
import ast, os, sys
os.dup2(1, 2)
_code = sys.stdin.read()
sys.stdin = open(os.devnull)
os.chdir('/mnt/data')
_g = {'__name__': '__main__', '__builtins__': __builtins__}
_status = 0
try:
    _tree = ast.parse(_code, '<code>', 'exec')
    _last = None
    if _tree.body and isinstance(_tree.body[-1], ast.Expr):
        _last = ast.Expression(_tree.body.pop().value)
    exec(compile(_tree, '<code>', 'exec'), _g)
    if _last is not None:
        _v = eval(compile(_last, '<code>', 'eval'), _g)
        if _v is not None:
            print(repr(_v))
except SystemExit as _e:
    _status = _e.code if isinstance(_e.code, int) else (0 if _e.code is None else 1)
except BaseException as _e:
    import traceback
    traceback.print_exception(type(_e), _e, _e.__traceback__.tb_next if _e.__traceback__ else None)
    _status = 1
try:
    _plt = sys.modules.get('matplotlib.pyplot')
    if _plt is not None:
        for _i, _n in enumerate(_plt.get_fignums()):
            _plt.figure(_n).savefig('${FIGURES_DIR}/figure-%03d.png' % _i, format='png')
        _plt.close('all')
except BaseException as _e:
    print('(figures could not be saved: %s)' % _e)
sys.stdout.flush()
os._exit(_status)
`;
