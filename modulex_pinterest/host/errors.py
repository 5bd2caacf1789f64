"""The one error the reference host's credential stores raise."""


class StoreError(Exception):
    """A credential store or shared budget could not do what was asked
    (unreachable, refused, or holding something that is not credentials).

    The message says what failed and never carries a secret (a password in a
    store's URL, a token), so a host may show it or log it as it is.
    """
