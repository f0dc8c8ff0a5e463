/**
 * The supervisor's team today, live while the screen is visible: :shell's
 * [TeamState] with the office date, a banner saying whether it follows the team live
 * (or is reconnecting, or stopped, and why), and one card per member with the status
 * text, deductions, flags and check-ins. The presenter starts on the screen's start
 * and stops on its stop; while started, it is ticked every minute so a new office day
 * is read again.
 */
package id.go.hadir.app.ui.team

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.PaddingValues
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.Card
import androidx.compose.material3.CardDefaults
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.unit.dp
import androidx.lifecycle.Lifecycle
import androidx.lifecycle.compose.LifecycleStartEffect
import androidx.lifecycle.compose.LocalLifecycleOwner
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import androidx.lifecycle.repeatOnLifecycle
import id.go.hadir.app.R
import id.go.hadir.app.ui.common.HadirScaffold
import id.go.hadir.app.ui.common.ProblemCard
import id.go.hadir.shell.Liveness
import id.go.hadir.shell.TeamRow
import id.go.hadir.shell.TeamState
import kotlinx.coroutines.delay

/** How often the screen asks whether the office's day has changed. */
private const val TICK_MS = 60_000L

/** The team screen. */
@Composable
fun TeamScreen(viewModel: TeamViewModel, onBack: () -> Unit) {
    val state by viewModel.state.collectAsStateWithLifecycle()
    LifecycleStartEffect(viewModel) {
        viewModel.start()
        onStopOrDispose { viewModel.stop() }
    }
    val lifecycleOwner = LocalLifecycleOwner.current
    LaunchedEffect(lifecycleOwner, viewModel) {
        lifecycleOwner.repeatOnLifecycle(Lifecycle.State.STARTED) {
            while (true) {
                delay(TICK_MS)
                viewModel.onTick()
            }
        }
    }
    HadirScaffold(stringResource(R.string.team_title), onBack) { padding ->
        LazyColumn(
            modifier = Modifier.fillMaxSize().padding(padding),
            contentPadding = PaddingValues(16.dp),
            verticalArrangement = Arrangement.spacedBy(12.dp),
        ) {
            item { Banner(state, onRetry = viewModel::start) }
            items(state.rows, key = { "${it.person.kind}:${it.person.value}" }) { row -> MemberCard(row) }
        }
    }
}

/** The date, and whether the screen follows the team live; the problem when it does not. */
@Composable
private fun Banner(state: TeamState, onRetry: () -> Unit) {
    Column(verticalArrangement = Arrangement.spacedBy(8.dp)) {
        Text(state.dateText, style = MaterialTheme.typography.titleLarge)
        val (label, color) = when (state.liveness) {
            Liveness.LOADING -> R.string.team_loading to MaterialTheme.colorScheme.onSurface
            Liveness.LIVE -> R.string.team_live to MaterialTheme.colorScheme.primary
            Liveness.RECONNECTING -> R.string.team_reconnecting to MaterialTheme.colorScheme.secondary
            Liveness.STOPPED -> R.string.team_stopped to MaterialTheme.colorScheme.error
        }
        Text(stringResource(label), style = MaterialTheme.typography.titleSmall, color = color)
        state.problem?.let { ProblemCard(it, onRetry = if (state.liveness == Liveness.STOPPED) onRetry else null) }
    }
}

/** One member: name, status, deductions, flags and the day's check-ins. */
@Composable
private fun MemberCard(row: TeamRow) {
    val colors = if (row.flagged) {
        CardDefaults.cardColors(containerColor = MaterialTheme.colorScheme.tertiaryContainer)
    } else {
        CardDefaults.cardColors()
    }
    Card(Modifier.fillMaxWidth(), colors = colors) {
        Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(4.dp)) {
            Text(row.name, style = MaterialTheme.typography.titleMedium)
            Text(row.statusText, style = MaterialTheme.typography.bodyLarge)
            for (deduction in row.deductions) Text(deduction, style = MaterialTheme.typography.bodyMedium, color = MaterialTheme.colorScheme.error)
            for (flag in row.flags) Text("⚑ $flag", style = MaterialTheme.typography.bodyMedium)
            for (checkin in row.checkins) Text(checkin, style = MaterialTheme.typography.bodyMedium)
        }
    }
}
