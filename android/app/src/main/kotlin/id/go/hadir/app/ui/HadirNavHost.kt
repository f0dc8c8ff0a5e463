/**
 * The screens' navigation (androidx.navigation compose, string routes): consent →
 * the owner's enrollment → home, and from home the check-in, history, the team (the
 * owner's, for a supervisor), a guest's enrollment and settings. Each destination
 * gets its own ViewModel (cleared when it leaves the back stack) and lifecycle (which
 * the camera and the team's live feed follow). The start destination comes from
 * [AppStart.Ready]; finishing consent or the first enrollment asks for it again
 * ([onSessionChanged]), which starts a fresh back stack.
 */
package id.go.hadir.app.ui

import android.net.Uri
import androidx.compose.runtime.Composable
import androidx.lifecycle.viewmodel.compose.viewModel
import androidx.navigation.NavType
import androidx.navigation.compose.NavHost
import androidx.navigation.compose.composable
import androidx.navigation.compose.rememberNavController
import androidx.navigation.navArgument
import id.go.hadir.app.HadirApplication
import id.go.hadir.app.ui.checkin.CheckInScreen
import id.go.hadir.app.ui.checkin.CheckInViewModel
import id.go.hadir.app.ui.consent.ConsentScreen
import id.go.hadir.app.ui.consent.ConsentViewModel
import id.go.hadir.app.ui.enrollment.EnrollmentScreen
import id.go.hadir.app.ui.enrollment.EnrollmentViewModel
import id.go.hadir.app.ui.history.HistoryScreen
import id.go.hadir.app.ui.history.HistoryViewModel
import id.go.hadir.app.ui.home.HomeActions
import id.go.hadir.app.ui.home.HomeScreen
import id.go.hadir.app.ui.home.HomeViewModel
import id.go.hadir.app.ui.settings.AppSettingsScreen
import id.go.hadir.app.ui.settings.SettingsViewModel
import id.go.hadir.app.ui.team.TeamScreen
import id.go.hadir.app.ui.team.TeamViewModel
import id.go.hadir.core.PersonKind
import id.go.hadir.core.PersonRef
import id.go.hadir.shell.EnrollmentMode

private const val CONSENT = "consent"
private const val ENROLL_OWNER = "enroll/owner"
private const val ENROLL_GUEST = "enroll/guest"
private const val HOME = "home"
private const val CHECK_IN = "checkin"
private const val HISTORY = "history"
private const val SETTINGS = "settings"
private const val TEAM = "team/{kind}/{id}"

/** The team route of [supervisor] (an id may hold "/": encoded). */
private fun teamRoute(supervisor: PersonRef) = "team/${supervisor.kind.name}/${Uri.encode(supervisor.value)}"

/** The app's screens from [ready]. */
@Composable
fun HadirNavHost(app: HadirApplication, ready: AppStart.Ready, onSessionChanged: () -> Unit) {
    val nav = rememberNavController()
    val engine = ready.engine
    val start = when {
        !ready.consentAccepted -> CONSENT
        engine == null -> ENROLL_OWNER
        else -> HOME
    }
    NavHost(navController = nav, startDestination = start) {
        composable(CONSENT) {
            ConsentScreen(viewModel { ConsentViewModel(app.consent) }, onAccepted = onSessionChanged)
        }
        composable(ENROLL_OWNER) {
            EnrollmentScreen(
                viewModel { EnrollmentViewModel(app.session, app.consent, EnrollmentMode.OWNER) },
                onEnrolled = onSessionChanged,
                onBack = null,
            )
        }
        if (engine == null) return@NavHost
        composable(ENROLL_GUEST) {
            EnrollmentScreen(
                viewModel { EnrollmentViewModel(app.session, app.consent, EnrollmentMode.GUEST) },
                onEnrolled = { nav.popBackStack() },
                onBack = { nav.popBackStack() },
            )
        }
        composable(HOME) {
            HomeScreen(
                viewModel { HomeViewModel(app, engine) },
                HomeActions(
                    onCheckIn = { nav.navigate(CHECK_IN) },
                    onHistory = { nav.navigate(HISTORY) },
                    onTeam = { supervisor -> nav.navigate(teamRoute(supervisor)) },
                    onAddGuest = { nav.navigate(ENROLL_GUEST) },
                    onSettings = { nav.navigate(SETTINGS) },
                ),
            )
        }
        composable(CHECK_IN) {
            CheckInScreen(viewModel { CheckInViewModel(app, engine) }, onDone = { nav.popBackStack() })
        }
        composable(HISTORY) {
            HistoryScreen(viewModel { HistoryViewModel(engine) }, onBack = { nav.popBackStack() })
        }
        composable(
            TEAM,
            arguments = listOf(navArgument("kind") { type = NavType.StringType }, navArgument("id") { type = NavType.StringType }),
        ) { entry ->
            val arguments = checkNotNull(entry.arguments)
            val supervisor = PersonRef(
                PersonKind.valueOf(checkNotNull(arguments.getString("kind"))),
                checkNotNull(arguments.getString("id")),
            )
            TeamScreen(viewModel { TeamViewModel(engine, supervisor) }, onBack = { nav.popBackStack() })
        }
        composable(SETTINGS) {
            AppSettingsScreen(
                viewModel { SettingsViewModel(engine, app.session) },
                onBack = { nav.popBackStack() },
                // The session has no engine any more: the start is read again (enrollment).
                onReset = onSessionChanged,
            )
        }
    }
}
