"""Views that write every shape of record a tutorial-style app writes."""

import logging

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

logger = logging.getLogger("myapp")

# Continuation lines that look like the start of a record but have no timestamp.
LOOKALIKE_LINES = "Error code 51\nERROR: the card was refused\nWARNING card expires soon\nInfo: the customer was told"


def hello(request):
    logger.info("This is an info message")
    logger.error("This is an error message")
    return HttpResponse("Hello, World!")


def boom(request):
    raise RuntimeError("Boom: this view fails on purpose")


def chained(request):
    try:
        try:
            int("forty-two")
        except ValueError as error:
            raise LookupError("no price for item forty-two") from error
    except LookupError:
        # Raised while handling the LookupError, without "from": Python prints
        # "During handling of the above exception, another exception occurred".
        raise RuntimeError("checkout failed\n" + LOOKALIKE_LINES)  # noqa: B904


def group(request):
    raise ExceptionGroup("two checks failed", [ValueError("no stock"), KeyError("no address")])


def payment(request):
    logger.warning("Payment declined for order 42:\n" + LOOKALIKE_LINES)
    try:
        {}["card"]
    except KeyError:
        logger.exception("The payment gateway's answer has no card")
    logger.info("Payment retry scheduled", stack_info=True)
    return HttpResponse("Payment declined")


@login_required
def account(request):
    return render(request, "pages/account.html")
