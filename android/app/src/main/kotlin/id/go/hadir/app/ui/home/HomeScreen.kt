/**
 * Home: :shell's [HomeState] for the chosen person. On a shared phone a person
 * switcher; the office date and today's attendances; the next one (red once its
 * deadline has passed); the big "Hadir" button; the pending count and the last sync;
 * the battery-saver guide with a button to the app's page in the phone's settings
 * when background sync has stopped; and the ways to History, the team (supervisors),
 * adding a colleague, and Settings. Re-read on every resume and after each sync.
 */
package id.go.hadir.app.ui.home

import android.Manifest
import android.os.Build
import androidx.activity.compose.rememberLauncherForActivityResult
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.heightIn
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.selection.selectable
import androidx.compose.foundation.selection.selectableGroup
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.RadioButton
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.semantics.Role
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.LifecycleResumeEffect
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import id.go.hadir.app.R
import id.go.hadir.app.ui.common.BigButton
import id.go.hadir.app.ui.common.BigTouch
import id.go.hadir.app.ui.common.HadirScaffold
import id.go.hadir.app.ui.common.ProblemCard
import id.go.hadir.app.ui.common.ScreenColumn
import id.go.hadir.app.ui.common.SecondButton
import id.go.hadir.app.ui.common.SectionCard
import id.go.hadir.app.ui.common.isGranted
import id.go.hadir.app.ui.common.openAppDetailsSettings
import id.go.hadir.core.EnrolledPersonInfo
import id.go.hadir.core.PersonRef
import id.go.hadir.shell.BatteryGuide
import id.go.hadir.shell.HomeState

/** Where home leads. */
class HomeActions(
    val onCheckIn: () -> Unit,
    val onHistory: () -> Unit,
    /** The team of [supervisor], the phone's owner. */
    val onTeam: (supervisor: PersonRef) -> Unit,
    val onAddGuest: () -> Unit,
    val onSettings: () -> Unit,
)

/** The home screen. */
@Composable
fun HomeScreen(viewModel: HomeViewModel, actions: HomeActions) {
    val state by viewModel.state.collectAsStateWithLifecycle()
    LifecycleResumeEffect(viewModel) {
        viewModel.onResume()
        onPauseOrDispose { }
    }
    AskForNotificationsOnce()
    HadirScaffold(stringResource(R.string.app_name), onBack = null) { padding ->
        ScreenColumn(padding, Modifier.verticalScroll(rememberScrollState())) {
            state.problem?.let { ProblemCard(it, onRetry = viewModel::refresh) }
            if (state.people.size > 1) PersonSwitcher(state.people, state.person, viewModel::choose)
            Today(state)
            val suspended = state.phoneSuspended
            if (suspended != null) {
                // The server refuses check-ins made now: say why instead of offering the button.
                Text(suspended, style = MaterialTheme.typography.titleMedium, color = MaterialTheme.colorScheme.error)
            } else {
                Button(
                    onClick = actions.onCheckIn,
                    enabled = state.person != null,
                    modifier = Modifier.fillMaxWidth().heightIn(min = 96.dp),
                ) { Text(stringResource(R.string.home_hadir), style = MaterialTheme.typography.displaySmall) }
            }
            Text(state.syncLine, style = MaterialTheme.typography.bodyLarge)
            state.batteryGuide?.let { BatteryGuideCard(it) }
            SecondButton(stringResource(R.string.home_history), actions.onHistory)
            val owner = state.people.firstOrNull { it.isDeviceOwner }
            if (state.canOpenTeam && owner != null) {
                SecondButton(stringResource(R.string.home_team), { actions.onTeam(owner.person) })
            }
            SecondButton(stringResource(R.string.home_add_guest), actions.onAddGuest)
            SecondButton(stringResource(R.string.home_settings), actions.onSettings)
        }
    }
}

/** Today's date and attendances, and the next one with its deadline. */
@Composable
private fun Today(state: HomeState) {
    SectionCard(stringResource(R.string.home_today)) {
        Text(state.date, style = MaterialTheme.typography.titleMedium)
        for (item in state.today) {
            Text(
                "${item.label} · ${item.time} · ${item.status}",
                style = MaterialTheme.typography.bodyLarge,
                color = if (item.pending) MaterialTheme.colorScheme.secondary else MaterialTheme.colorScheme.onSurface,
            )
        }
        state.next?.let {
            Text(
                it,
                style = MaterialTheme.typography.titleMedium,
                fontWeight = FontWeight.Bold,
                color = if (state.nextOverdue) MaterialTheme.colorScheme.error else MaterialTheme.colorScheme.onSurface,
            )
        }
    }
}

/** On a shared phone: whose day home shows. */
@Composable
private fun PersonSwitcher(people: List<EnrolledPersonInfo>, chosen: EnrolledPersonInfo?, onChoose: (PersonRef) -> Unit) {
    SectionCard(stringResource(R.string.home_person)) {
        Column(Modifier.selectableGroup()) {
            for (person in people) {
                val selected = person.person == chosen?.person
                Row(
                    modifier = Modifier
                        .fillMaxWidth()
                        .heightIn(min = BigTouch)
                        .selectable(selected = selected, onClick = { onChoose(person.person) }, role = Role.RadioButton),
                    verticalAlignment = Alignment.CenterVertically,
                ) {
                    RadioButton(selected = selected, onClick = null)
                    Text(person.displayName, style = MaterialTheme.typography.bodyLarge)
                }
            }
        }
    }
}

/** :shell's steps for this phone maker, and the app's page in the phone's settings. */
@Composable
private fun BatteryGuideCard(guide: BatteryGuide) {
    val context = LocalContext.current
    SectionCard(guide.title) {
        guide.steps.forEachIndexed { index, step ->
            Text("${index + 1}. $step", style = MaterialTheme.typography.bodyLarge)
        }
        BigButton(stringResource(R.string.home_battery_open), { context.openAppDetailsSettings() })
    }
}

/**
 * Android 13+: asks once per app start for the reminder's notification permission
 * (optional: attendance works without it; Settings explains it and asks again).
 */
@Composable
private fun AskForNotificationsOnce() {
    if (Build.VERSION.SDK_INT < Build.VERSION_CODES.TIRAMISU) return
    val context = LocalContext.current
    var asked by rememberSaveable { mutableStateOf(false) }
    val launcher = rememberLauncherForActivityResult(ActivityResultContracts.RequestPermission()) { }
    LaunchedEffect(Unit) {
        if (!asked && !context.isGranted(Manifest.permission.POST_NOTIFICATIONS)) {
            asked = true
            launcher.launch(Manifest.permission.POST_NOTIFICATIONS)
        }
    }
}
