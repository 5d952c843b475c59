"""Account forms. Flask-WTF adds and checks the CSRF token."""
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from tracker.accounts import MIN_PASSWORD_LENGTH


class SignupForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=320)])
    display_name = StringField("Name (optional)", validators=[Optional(), Length(max=120)])
    password = PasswordField(
        f"Password (at least {MIN_PASSWORD_LENGTH} characters)",
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=256)],
    )
    next = HiddenField()


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])
    next = HiddenField()


class DeleteAccountForm(FlaskForm):
    """For "Delete my account": the learner confirms with their password."""

    password = PasswordField("Your password", validators=[DataRequired(), Length(max=256)])


class ConfirmAccountDeletionForm(FlaskForm):
    """An admin deleting a learner's account on request confirms by typing its email."""

    email = StringField("The learner's email", validators=[DataRequired(), Length(max=320)])
