from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from myapp import views

urlpatterns = [
    path("", views.hello, name="hello"),
    path("boom/", views.boom, name="boom"),
    path("healthz", views.healthz, name="healthz"),
    path("account/", views.account, name="account"),
    path("restricted/", views.restricted, name="restricted"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]
