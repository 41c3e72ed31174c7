"""(being built)"""

from flask import Blueprint

bp = Blueprint("avatars", __name__)
