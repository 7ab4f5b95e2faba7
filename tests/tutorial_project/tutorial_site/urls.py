from django.contrib.auth import views as auth_views
from django.urls import path

from pages import views

urlpatterns = [
    path("", views.hello),
    path("boom/", views.boom),
    path("chained/", views.chained),
    path("group/", views.group),
    path("payment/", views.payment),
    path("account/", views.account),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
]
