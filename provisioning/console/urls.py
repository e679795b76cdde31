"""The console's routes. The paths of the HTTP contract (login, logout, healthz, accounts, officials,
reports, unit forms) are kept stable: other tools and the tests rely on them."""
from django.urls import path

from . import views

urlpatterns = [
    path("", views.home),
    path("healthz", views.healthz),
    path("static/console/<str:name>", views.static),
    path("lang", views.set_lang),
    path("login", views.login),
    path("login/2fa", views.login_2fa),
    path("logout", views.logout),
    path("password", views.password),
    path("me", views.me),
    path("accounts/", views.accounts_home),
    path("accounts/plan", views.plan),
    path("accounts/plans/<str:token>", views.plan_view),
    path("accounts/plans/<str:token>/plan.csv", views.plan_csv),
    path("accounts/plans/<str:token>/apply", views.apply),
    path("accounts/plans/<str:token>/progress", views.progress),
    path("accounts/runs/<str:stamp>", views.run_view),
    path("accounts/sheets/<str:unit>", views.sheet),
    path("officials/", views.officials),
    path("officials/<str:uid>", views.official),
    path("officials/<str:uid>/reset-password", views.reset_password),
    path("officials/<str:uid>/reset-2fa", views.reset_2fa),
    path("journal/", views.journal_view),
    path("reports/", views.reports),
    path("reports/<str:month>", views.report_view),
    path("reports/<str:month>/<str:name>", views.report_file),
    path("units/<str:unit>/", views.unit_page),
    path("units/<str:unit>/forms/<str:month>", views.unit_form),
]

